"""The admin's mailbox with the browser set to Spanish: the mailbox, the outbox and the bounces
with their statuses, and the answer to clearing a held address, in Spanish; the English page
unchanged (README, "Languages")."""

from __future__ import annotations

from ..dash_calls import call, render_page, response_of, text_of
from ..dashboard.test_notification_pages import _as, _mailbox, world  # noqa: F401
from .admin import SPANISH, english_shown, rename_data, shown


def test_the_mailbox_in_spanish(client, world, session) -> None:  # noqa: F811
    rename_data(session)
    _as(client, "admin")
    client.headers.update(SPANISH)
    page = render_page(client, "/admin/mailbox")
    listed = response_of(_mailbox(client))
    assert listed["mailbox-count"]["children"] == "1 correo"
    statuses = {row["status_text"] for row in listed["mailbox-outbox"]["rowData"]}
    assert {"fallido", "pendiente"} <= statuses
    assert {row["kind_text"] for row in listed["mailbox-outbox"]["rowData"]} == {"recordatorio"}
    unchosen = response_of(
        call(
            client,
            "..mailbox-clear-feedback.children",
            [("mailbox-clear", "n_clicks", 1)],
            [("mailbox-held", "value", None)],
        )
    )
    assert "Elija primero una dirección retenida." in " ".join(shown(unchosen))
    answers = [client.get("/_dash-layout").json(), response_of(page), listed, unchosen]
    found = english_shown(answers)
    assert not found, "\n".join(map(str, found))
    assert '"headerName": "Próximo intento"' in text_of(page)
    assert "Buzón local" in text_of(page)

    # The same page in English is unchanged.
    client.headers.pop("Accept-Language")
    english = response_of(_mailbox(client))
    assert english["mailbox-count"]["children"] == "1 mail"
    assert {row["status_text"] for row in english["mailbox-outbox"]["rowData"]} >= {"failed"}
