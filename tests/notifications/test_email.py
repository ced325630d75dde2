"""Every kind of message renders from its templates (plain text as written, HTML escaped), and
the SMTP URL says how to reach the server."""

from __future__ import annotations

import pytest

from models.notifications.email import (
    PermanentFailure,
    SmtpSender,
    SmtpServer,
    render,
)
from models.tables.notifications import KINDS

from .smtp import SmtpServer as LocalSmtp

PAYLOAD = {
    "initiative": "c2c",
    "initiative_name": "Cradle <to> Career",
    "organisation": "eastside",
    "organisation_name": "East & West",
    "period": "2025Q3",
    "due_on": "2027-01-30",
    "comment": "Recount <script>",
    "note": "Now with <i>all</i> partners",
    "was": "approved",
    "by": "backbone@x.org",
    "offset": -3,
    "coverage": {"approved": 3, "expected": 4},
    "revised": 0,
    "name": "Ada",
    "token_version": 1,
    "base_url": "http://testserver/",
    "days_overdue": 9,
    "extended": True,
}
PAYLOAD |= {
    "day": "2026-11-29",
    "items": [
        {"kind": "report_returned", "payload": PAYLOAD},
        {"kind": "reminder", "payload": PAYLOAD},
    ],
    "obligations": [
        {
            "initiative": "c2c",
            "initiative_name": "Cradle <to> Career",
            "organisation": "eastside",
            "organisation_name": "East & West",
            "period": "2025Q4",
            "due_on": "2027-04-30",
        }
    ],
}
SUBJECTS = {
    "report_returned": "East & West: your 2025Q3 report was returned with a comment",
    "report_approved": "East & West: your 2025Q3 report was approved",
    "report_reopened": "East & West: your approved 2025Q3 report was reopened for a correction",
    "period_published": "Cradle <to> Career: 2025Q3 was published",
    "invitation": "You are invited to Common Measure",
    "reminder": "East & West: the 2025Q3 report is due in 3 days",
    "digest": "Common Measure daily digest, 29 Nov 2026: 2 messages",
    "escalation": "East & West: the 2025Q3 report is 9 days overdue",
    "period_opened": "East & West: reports for 2025Q3 are open, due 30 Jan 2027",
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_text_and_escaped_html(kind: str) -> None:
    mail = render(
        kind=kind, to="a@x.org", user_id=7, payload=PAYLOAD, link="http://l/?a=1&b=2", key="k"
    )
    assert mail.subject == SUBJECTS[kind]
    assert "http://l/?a=1&b=2" in mail.text and 'href="http://l/?a=1&amp;b=2"' in mail.html
    assert "<script>" not in mail.html and "<i>" not in mail.html
    assert "/api/v1/notifications/unsubscribe?token=" in mail.text
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "None" not in mail.text


def test_a_digest_lists_the_reports_still_owed_with_their_templates() -> None:
    mail = render(kind="digest", to="a", user_id=1, payload=PAYLOAD, link="l", key="k")
    template = "/portal/template.xlsx?initiative=c2c&org=eastside&period=2025Q4"
    assert "Reports you still owe:" in mail.text
    assert "- East & West, 2025Q4 for Cradle <to> Career: due 30 Apr 2027" in mail.text
    assert template in mail.text and template.replace("&", "&amp;") in mail.html
    assert "East &amp; West, 2025Q4 for Cradle &lt;to&gt; Career: due 30 Apr 2027" in mail.html
    alone = render(
        kind="digest", to="a", user_id=1, payload={**PAYLOAD, "obligations": []}, link="l", key="k"
    )
    assert "still owe" not in alone.text and "still owe" not in alone.html


def test_an_escalation_says_which_deadline_was_missed() -> None:
    extended = render(kind="escalation", to="a", user_id=1, payload=PAYLOAD, link="l", key="k")
    assert "due on 30 Jan 2027 (its extended deadline) and is 9 days overdue" in extended.text
    plain = {**PAYLOAD, "extended": False, "days_overdue": 1}
    mail = render(kind="escalation", to="a", user_id=1, payload=plain, link="l", key="k")
    assert "due on 30 Jan 2027 and is 1 day overdue" in mail.text
    assert mail.subject == "East & West: the 2025Q3 report is 1 day overdue"


def test_the_reminders_say_when() -> None:
    def subject(offset: int) -> str:
        payload = {**PAYLOAD, "offset": offset}
        return render(
            kind="reminder", to="a", user_id=1, payload=payload, link="l", key="k"
        ).subject

    assert subject(-1).endswith("is due in 1 day")
    assert subject(0).endswith("is due today")
    assert subject(7).endswith("is 7 days overdue")
    assert (
        "was due on 30 Jan 2027"
        in render(
            kind="reminder", to="a", user_id=1, payload={**PAYLOAD, "offset": 7}, link="l", key="k"
        ).text
    )


def test_smtp_urls() -> None:
    plain = SmtpServer.from_url("smtp://mail.example.org")
    assert (plain.host, plain.port, plain.tls, plain.require_starttls) == (
        "mail.example.org",
        25,
        False,
        False,
    )
    tls = SmtpServer.from_url("smtps://u%40x:p%2Fw@mail.example.org")
    assert (tls.port, tls.tls, tls.user, tls.password) == (465, True, "u@x", "p/w")
    strict = SmtpServer.from_url("smtp://mail.example.org:587?starttls=1")
    assert (strict.port, strict.require_starttls) == (587, True)


def test_starttls_required_but_not_offered_is_a_permanent_failure() -> None:
    server = LocalSmtp().start()  # no TLS offered
    try:
        mail = render(kind="reminder", to="a@x.org", user_id=1, payload=PAYLOAD, link="l", key="k")
        with pytest.raises(PermanentFailure, match="STARTTLS"):
            SmtpSender(server.url + "?starttls=1", "cm@x.org").send(None, 1, mail)  # type: ignore[arg-type]
        assert server.inbox.messages == []
        SmtpSender(server.url, "cm@x.org").send(None, 1, mail)  # type: ignore[arg-type]
        assert len(server.inbox.messages) == 1
    finally:
        server.stop()
