"""A whole reporting cycle walked in Spanish through the Dash app (README, "Languages"): the
partner logs in, opens the portal and the reporting form, enters a value the domain refuses,
saves a draft, uploads a spreadsheet (wrong, then right), imports and submits; the backbone
team returns the report with a comment; the partner corrects and submits again; the backbone
team approves and publishes; the public page; and every mail the cycle sent. At each step the
strings a reader is shown are collected and no English text of the catalogue may be among them.

The walk is run once per side: ``partner`` checks the partner's steps and the partner's mails,
``backbone`` the backbone team's pages, the public page and the backbone team's mails. What
people wrote (names, the comment, the note) is data: it is written in Spanish here so that only
UI text can be found.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import select, update

from models import MailboxMessage, Submission, User
from models.notifications.email import MailboxSender, template_path
from models.notifications.worker import DeliveryWorker
from models.spreadsheets.templates import TEMPLATE_COLUMNS

from .. import factories as f
from ..dash_calls import call, log_in, render_page, response_of, text_of
from .english import VISIBLE_PROPS, english_in

SPANISH = {"Accept-Language": "es-419,es;q=0.9"}
INIT, PERIOD = "c2c", "2025Q3"
# What a reader is shown, wherever it sits in an answer: a component's text properties, a
# dropdown's options, and the data grid's headers, row labels and checks.
SHOWN_KEYS = {*VISIBLE_PROPS, "headerName", "message", "type_label"}


def shown(node: object, key: str | None = None) -> Iterator[str]:
    """Every string of an answer held under a key a reader sees (ids, classes, stores' codes
    and the grid's own fields are not shown)."""
    if isinstance(node, str):
        if key in SHOWN_KEYS:
            yield node
    elif isinstance(node, list):
        for item in node:
            yield from shown(item, key)
    elif isinstance(node, dict):
        for name, value in node.items():
            yield from shown(value, name)


def test_the_collector_finds_english_in_a_grid_and_an_alert() -> None:
    """The check itself: a header, a row's check and an alert in English are all found."""
    answer = {
        "portal-grid": {
            "columnDefs": [{"field": "value", "headerName": "Value"}],
            "rowData": [{"type": "rate", "checks": [{"label": "Nothing to save", "kind": "x"}]}],
        },
        "portal-feedback": {
            "children": {
                "type": "Alert",
                "namespace": "dash_bootstrap_components",
                "props": {"children": "Nothing to save: no cell was changed.", "id": "a"},
            }
        },
    }
    found = {english for _text, english in english_in(shown(answer))}
    assert {"Value", "Nothing to save: no cell was changed."} <= found
    assert not english_in(shown({"x": {"id": "Nothing to save: no cell was changed."}}))


@pytest.fixture
def world(session, client):
    """One initiative; Eastside reports a rate by race and a count, in an open period."""
    init = f.initiative(session, slug=INIT, name="De la cuna a la carrera")
    race = f.dimension(session, init, "race", ["black", "white"])
    race.name = "Raza"
    race.categories[0].name, race.categories[1].name = "Negra", "Blanca"
    ready = f.indicator(
        session, init, "rate", code="K_READY", name="Preparación escolar", valid_max=100
    )
    ready.dimensions = [race]
    served = f.indicator(
        session, init, "count", code="SERVED", name="Niñez atendida", unit="personas"
    )
    east = f.member(session, init, f.organisation(session, slug="eastside", name="Lado Este"))
    for ind in (ready, served):
        f.obligation(session, east, ind)
    today = date.today()
    f.period(
        session,
        init,
        PERIOD,
        opens_on=today - timedelta(days=10),
        due_on=today + timedelta(days=20),
        closes_on=today + timedelta(days=40),
    )
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "reporter": f.user(session, "reporter", org=east.organisation),
    }
    session.execute(update(User).values(locale="es"))  # mails go out in Spanish too
    session.commit()
    return users


def _grid(client, *, trigger="portal-period", rows=None, version=None):
    return call(
        client,
        "..portal-grid.rowData",
        [
            ("portal-initiative", "value", INIT),
            ("portal-org", "value", "eastside"),
            ("portal-period", "value", PERIOD),
            ("portal-save", "n_clicks", 1 if trigger == "portal-save" else None),
            ("portal-submit", "n_clicks", 1 if trigger == "portal-submit" else None),
        ],
        [("portal-grid", "rowData", rows or []), ("portal-version", "data", version)],
        changed=[f"{trigger}.{'value' if trigger == 'portal-period' else 'n_clicks'}"],
    )


def _upload(client, csv_text: str, *, trigger="portal-upload"):
    contents = "data:text/csv;base64," + base64.b64encode(csv_text.encode()).decode()
    return call(
        client,
        "..portal-upload-report.children",
        [("portal-upload", "contents", contents), ("portal-import", "n_clicks", 1)],
        [
            ("portal-upload", "filename", "valores.csv"),
            ("portal-initiative", "value", INIT),
            ("portal-org", "value", "eastside"),
            ("portal-period", "value", PERIOD),
        ],
        changed=[f"{trigger}.{'contents' if trigger == 'portal-upload' else 'n_clicks'}"],
    )


def _review(client, action: str | None, comment: str | None = None) -> list:
    """The review queue, the first report's detail and, with ``action``, the decision."""
    answers = [render_page(client, "/reporting/review", f"?initiative={INIT}&period={PERIOD}")]
    answers.append(
        call(
            client,
            "..review-queue.options",
            [
                ("review-initiative", "value", INIT),
                ("review-period", "value", PERIOD),
                ("review-refresh", "data", 0),
            ],
            [("review-queue", "options", []), ("review-queue", "value", None)],
        )
    )
    [option] = response_of(answers[-1])["review-queue"]["options"]
    answers.append(
        call(
            client,
            "..review-detail.children",
            [("review-queue", "value", option["value"]), ("review-queue", "options", [option])],
            [("review-initiative", "value", INIT)],
        )
    )
    chosen = response_of(answers[-1])["review-selected"]["data"]
    if action:
        answers.append(
            call(
                client,
                "..review-feedback.children...review-refresh",
                [
                    ("review-approve", "n_clicks", 1 if action == "review-approve" else None),
                    ("review-return", "n_clicks", 1 if action == "review-return" else None),
                ],
                [
                    ("review-selected", "data", chosen),
                    ("review-comment", "value", comment),
                    ("review-refresh", "data", 0),
                    ("review-until", "date", None),
                ],
                changed=[f"{action}.n_clicks"],
            )
        )
    return answers


def _texts(*answers) -> list[str]:
    return [text for answer in answers for text in shown(response_of(answer))]


def _status(session) -> str:
    session.expire_all()
    return session.scalars(select(Submission.status)).one()


def walk(client, session, session_factory, users) -> dict[str, list[str]]:
    """The cycle in Spanish; the strings shown at each step, by step."""
    steps: dict[str, list[str]] = {}
    client.headers.update(SPANISH)

    # The partner logs in and opens the portal and its reporting form.
    log_in(client, users["reporter"])
    page = render_page(client, "/portal", f"?initiative={INIT}&org=eastside&period={PERIOD}")
    loaded = _grid(client)
    deadline = call(
        client,
        "portal-next-deadline.children",
        [
            ("portal-initiative", "value", INIT),
            ("portal-org", "value", "eastside"),
            ("portal-version", "data", None),
        ],
    )
    shell = client.get("/_dash-layout")
    # The words the page's scripts write (the chart's table), from the index page.
    index = client.get(f"/portal?initiative={INIT}").text
    block = re.search(r'<script type="application/json" id="cm-words">(.*?)</script>', index)
    assert block is not None and '<html lang="es">' in index
    words = json.loads(block.group(1))
    assert words["chartAsTable"] == "El gráfico como tabla"
    steps["partner: portal"] = [
        *shown(shell.json()),
        *_texts(page, loaded, deadline),
        *words.values(),
    ]
    assert "Portal de socios" in steps["partner: portal"]
    assert "Guardar borrador" in steps["partner: portal"]

    # The pre-filled template: its column names are the file's keys, its instructions Spanish.
    download = client.get(template_path(INIT, "eastside", PERIOD))
    assert download.status_code == 200, download.text
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    assert [c.value for c in book["Values"][1]] == list(TEMPLATE_COLUMNS)
    instructions = [
        str(cell)
        for row in book["Instructions"].iter_rows(values_only=True)
        for cell in row
        if cell
    ]
    assert "Cómo completar esta plantilla" in instructions
    steps["partner: template"] = [t for t in instructions if t not in TEMPLATE_COLUMNS]

    # The partner's trend against the initiative and its strategies, beside the form.
    trend = call(
        client,
        "portal-trend.figure",
        [
            ("portal-initiative", "value", INIT),
            ("portal-org", "value", "eastside"),
            ("portal-trend-code", "value", "SERVED"),
        ],
    )
    strategies = call(
        client,
        "portal-strategies.children",
        [("portal-initiative", "value", INIT), ("portal-org", "value", "eastside")],
    )
    steps["partner: trend and strategies"] = _texts(trend, strategies)
    assert "Su organización no tiene ninguna estrategia aquí." in text_of(strategies)

    # A value the domain refuses: the problem is marked on its row, in Spanish.
    rows = response_of(loaded)["portal-grid"]["rowData"]
    version = response_of(loaded)["portal-version"]["data"]
    by_id = {r["id"]: r for r in rows}
    by_id["K_READY|total"].update(numerator=95, denominator=90)
    refused = _grid(client, trigger="portal-save", rows=rows, version=version)
    steps["partner: refused value"] = _texts(refused)
    marked = {r["id"]: r for r in response_of(refused)["portal-grid"]["rowData"]}
    assert "mayor que el denominador" in marked["K_READY|total"]["checks"][0]["label"]

    # Fixed, the draft is saved.
    marked["K_READY|total"].update(numerator=45)
    marked["SERVED|total"].update(value=1234)
    saved = _grid(client, trigger="portal-save", rows=list(marked.values()), version=version)
    steps["partner: draft saved"] = _texts(saved)
    assert any(t.startswith("Borrador guardado") for t in steps["partner: draft saved"]), steps[
        "partner: draft saved"
    ]

    # A spreadsheet with mistakes, then a right one, checked and imported.
    wrong = _upload(client, "indicator,value\nSERVED,12x\nNOPE,3\n")
    right = _upload(client, "indicator,disaggregation,value\nSERVED,total,1300\n")
    imported = _upload(
        client, "indicator,disaggregation,value\nSERVED,total,1300\n", trigger="portal-import"
    )
    steps["partner: upload"] = _texts(wrong, right, imported)
    assert "portal-upload-errors" in text_of(wrong) and "portal-upload-done" in text_of(imported)

    # The form again, then submitted.
    reloaded = _grid(client)
    version = response_of(reloaded)["portal-version"]["data"]
    rows = response_of(reloaded)["portal-grid"]["rowData"]
    submitted = _grid(client, trigger="portal-submit", rows=rows, version=version)
    steps["partner: submitted"] = _texts(reloaded, submitted, _grid(client))
    assert _status(session) == "submitted"

    # The partner's other pages: a value's history, notification preferences, an invitation.
    history = render_page(
        client, "/history", f"?initiative={INIT}&org=eastside&period={PERIOD}&indicator=SERVED"
    )
    assert "history-table" in text_of(history), text_of(history)
    preferences = render_page(client, "/preferences")
    assert "prefs-table" in text_of(preferences)
    client.cookies.clear()
    invitations = [render_page(client, "/invite"), render_page(client, "/invite", "?token=x")]
    log_in(client, users["reporter"])
    steps["partner: history, preferences, invitation"] = _texts(history, preferences, *invitations)

    # The backbone team returns it with a comment.
    log_in(client, users["backbone"])
    steps["backbone: review, return"] = [
        *shown(client.get("/_dash-layout").json()),
        *_texts(*_review(client, "review-return", "Vuelva a contar el desglose por raza.")),
    ]
    assert _status(session) == "returned"

    # The partner reads the comment, corrects and submits again.
    log_in(client, users["reporter"])
    returned = _grid(client)
    assert "Vuelva a contar el desglose por raza." in text_of(returned)
    rows = response_of(returned)["portal-grid"]["rowData"]
    version = response_of(returned)["portal-version"]["data"]
    by_id = {r["id"]: r for r in rows}
    by_id["K_READY|race=black"].update(numerator=20, denominator=40)
    by_id["K_READY|race=white"].update(numerator=25, denominator=50)
    again = _grid(client, trigger="portal-submit", rows=rows, version=version)
    steps["partner: returned, resubmitted"] = _texts(returned, again, _grid(client))
    assert _status(session) == "submitted"

    # The backbone team approves and publishes.
    log_in(client, users["backbone"])
    decided = _review(client, "review-approve")
    assert _status(session) == "approved"
    publish_page = render_page(client, "/reporting/publish", f"?initiative={INIT}")
    readiness = call(
        client,
        "..publish-readiness.children",
        [
            ("publish-initiative", "value", INIT),
            ("publish-period", "value", PERIOD),
            ("publish-refresh", "data", 0),
        ],
    )
    previewed = response_of(readiness)["publish-previewed"]["data"]
    published = call(
        client,
        "..publish-feedback.children",
        [("publish-submit", "n_clicks", 1)],
        [
            ("publish-initiative", "value", INIT),
            ("publish-period", "value", PERIOD),
            ("publish-note", "value", "Primera publicación"),
            ("publish-confirm", "value", True),
            ("publish-previewed", "data", previewed),
            ("publish-refresh", "data", 0),
        ],
    )
    assert "publish-done" in text_of(published), text_of(published)
    steps["backbone: approve, publish"] = _texts(*decided, publish_page, readiness, published)

    # The public page, to anyone.
    client.cookies.clear()
    public = call(
        client,
        "public-body.children",
        [("public-initiative", "data", INIT), ("public-period", "value", PERIOD)],
    )
    steps["public page"] = _texts(render_page(client, f"/public/{INIT}"), public)
    assert "Niñez atendida" in text_of(public)

    # Every mail the cycle sent, each in its recipient's language (Spanish here).
    DeliveryWorker(session_factory, MailboxSender()).run_once(reminders=False)
    session.expire_all()
    reporter, backbone = users["reporter"].email, users["backbone"].email
    for name, address in (("partner: mails", reporter), ("backbone: mails", backbone)):
        mails = session.scalars(
            select(MailboxMessage).where(MailboxMessage.to_address == address)
        ).all()
        steps[name] = [
            line
            for m in mails
            for line in (m.subject, *m.text_body.splitlines(), *m.html_body.splitlines())
        ]
    assert steps["partner: mails"], "the return mailed the partner's reporter"
    return steps


@pytest.mark.usefixtures("few_partners_allowed")
@pytest.mark.parametrize("side", ["partner", "backbone"])
def test_a_whole_reporting_cycle_in_spanish(client, world, session, session_factory, side) -> None:
    steps = walk(client, session, session_factory, world)
    english = {
        step: english_in(texts)
        for step, texts in steps.items()
        if step.startswith(side) or (side == "backbone" and step == "public page")
    }
    assert english and not any(english.values()), json.dumps(english, ensure_ascii=False)
