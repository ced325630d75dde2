"""A partner's save, submission and read keep the initiative's indicator specs, codes and the
member's obligations under its setup revision (``models.reporting.submissions``,
``models.analytics.kept``). Another worker changing the setup through raw SQL — a validation
rule, a disaggregation code, an indicator's code, an obligation — shows in this worker's very
next request: validation exactly as strict (a 4xx naming the field), ``missing`` as the
obligations now are."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from models.analytics.kept import KEPT
from models.core.actors import Actor
from models.core.errors import InvalidInput
from models.reporting.submissions import get_submission, save_values, transition
from models.reporting.validation import ValueInput

from .. import factories as f
from ..analytics.test_revisions import two_engines  # noqa: F401 (a fixture)


def _world(writer) -> tuple[Actor, dict]:
    with Session(writer) as s:
        built = f.two_partner_world(s)
        ids = {
            "init": built["init"].id,
            "east": built["east"].id,
            "org": built["east"].organisation_id,
        }
        s.commit()
    actor = Actor(label="reporter", reporter_in=frozenset({(ids["init"], ids["org"])}))
    return actor, ids


def _save(reader, actor: Actor, *inputs: ValueInput):
    with Session(reader) as s:
        result = save_values(
            session=s,
            actor=actor,
            initiative_slug="c2c",
            org_slug="eastside",
            period_key="2025Q3",
            inputs=list(inputs),
        )
        s.commit()
        return result


def _refused(reader, actor: Actor, *inputs: ValueInput) -> list[str]:
    with pytest.raises(InvalidInput) as refused, Session(reader) as s:
        save_values(
            session=s,
            actor=actor,
            initiative_slug="c2c",
            org_slug="eastside",
            period_key="2025Q3",
            inputs=list(inputs),
        )
    return [e["field"] for e in refused.value.extra["errors"]]


def _view(reader, actor: Actor):
    with Session(reader) as s:
        return get_submission(
            session=s,
            actor=actor,
            initiative_slug="c2c",
            org_slug="eastside",
            period_key="2025Q3",
        )


def _sql(writer, statement: str, **params) -> None:
    with writer.begin() as conn:
        conn.execute(text(statement), params)


def test_a_validation_rule_changed_by_another_worker_holds_at_the_next_save(
    two_engines,  # noqa: F811
) -> None:
    writer, reader = two_engines
    actor, _ = _world(writer)
    _save(reader, actor, ValueInput("SERVED", value=90_000))  # kept: max 100,000
    _sql(writer, "UPDATE indicators SET valid_max = 1000 WHERE code = 'SERVED'")
    assert _refused(reader, actor, ValueInput("SERVED", value=2000)) == ["values[0].value"]
    _sql(writer, "UPDATE indicators SET valid_max = 100000 WHERE code = 'SERVED'")
    assert _save(reader, actor, ValueInput("SERVED", value=2000)).updated == 1


def test_a_disaggregation_code_changed_by_another_worker_holds_at_the_next_save(
    two_engines,  # noqa: F811
) -> None:
    writer, reader = two_engines
    actor, _ = _world(writer)
    black = ValueInput("K_READY", "race=black", numerator=1, denominator=2)
    _save(reader, actor, black)
    _sql(writer, "UPDATE categories SET code = 'other' WHERE code = 'black'")
    assert _refused(reader, actor, black) == ["values[0].disaggregation"]
    other = ValueInput("K_READY", "race=other", numerator=1, denominator=4)
    assert _save(reader, actor, other).created == 1


def test_an_indicator_code_changed_by_another_worker_holds_at_the_next_save(
    two_engines,  # noqa: F811
) -> None:
    writer, reader = two_engines
    actor, _ = _world(writer)
    _save(reader, actor, ValueInput("SCORE", value=10, denominator=3))
    _sql(writer, "UPDATE indicators SET code = 'SCORE2' WHERE code = 'SCORE'")
    assert _refused(reader, actor, ValueInput("SCORE", value=11, denominator=3)) == [
        "values[0].indicator"
    ]
    view = _save(reader, actor, ValueInput("SCORE2", value=11, denominator=3)).submission
    assert [(v.indicator, v.value) for v in view.values] == [("SCORE2", 11)]
    assert "SCORE" not in view.missing and "SCORE2" not in view.missing


def test_obligations_changed_by_another_worker_show_in_the_next_answer(
    two_engines,  # noqa: F811
) -> None:
    writer, reader = two_engines
    actor, ids = _world(writer)
    saved = _save(reader, actor, ValueInput("SERVED", value=5)).submission
    assert saved.missing == ["K_READY", "SCORE"]
    assert _view(reader, actor).missing == ["K_READY", "SCORE"]  # kept
    _sql(
        writer,
        "DELETE FROM obligations WHERE member_id = :east AND indicator_id IN "
        "(SELECT id FROM indicators WHERE code = 'SCORE')",
        east=ids["east"],
    )
    assert _view(reader, actor).missing == ["K_READY"]
    assert _save(reader, actor, ValueInput("SERVED", value=6)).submission.missing == ["K_READY"]
    _sql(
        writer,
        "INSERT INTO obligations (member_id, indicator_id) "
        "SELECT :east, id FROM indicators WHERE code = 'SCORE'",
        east=ids["east"],
    )
    with Session(reader) as s:
        submitted = transition(
            session=s,
            actor=actor,
            initiative_slug="c2c",
            org_slug="eastside",
            period_key="2025Q3",
            action="submit",
        )
        s.commit()
    assert submitted.missing == ["K_READY", "SCORE"]


def test_the_members_obligations_share_one_kept_entry(two_engines) -> None:  # noqa: F811
    writer, reader = two_engines
    _, ids = _world(writer)
    backbone = Actor(label="backbone", backbone_of=frozenset({ids["init"]}))
    KEPT.clear()
    missing = {}
    for org in ("eastside", "westside", "eastside"):
        with Session(reader) as s:
            missing[org] = get_submission(
                session=s,
                actor=backbone,
                initiative_slug="c2c",
                org_slug=org,
                period_key="2025Q3",
            ).missing
    assert missing == {"eastside": ["K_READY", "SCORE", "SERVED"], "westside": ["SERVED"]}
    entries = [key for key in KEPT._values if "obligations" in key[0] and key[1][1] == ids["init"]]
    assert len(entries) == 1


def test_a_saves_answer_is_the_report_as_read_after_it(two_engines) -> None:  # noqa: F811
    """The save's answer comes from its own read of the values and history (flags refreshed
    on the way): it is the report as the next read shows it, flags and warnings included."""
    writer, reader = two_engines
    actor, _ = _world(writer)
    first = _save(
        reader,
        actor,
        ValueInput("K_READY", numerator=5, denominator=10),
        ValueInput("K_READY", "race=black", numerator=1, denominator=4),
        ValueInput("K_READY", "race=white", numerator=1, denominator=4),
        ValueInput("SERVED", value=7),
    ).submission
    assert first.warnings and any(v.flags for v in first.values)
    assert first == _view(reader, actor)
    fixed = _save(
        reader,
        actor,
        ValueInput("K_READY", "race=black", numerator=4, denominator=6),
        ValueInput("K_READY", "race=white", numerator=1, denominator=4),
    ).submission
    assert fixed == _view(reader, actor)
    assert [v.flags for v in fixed.values] != [v.flags for v in first.values]
