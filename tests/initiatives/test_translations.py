"""Translations of what the backbone team writes (README, "Languages"): set, list and clear
them through the API, who may, what is refused, when they need review, how every display
falls back to the English, and how a publication freezes them for the public."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import AuditEvent, ContentTranslation, Indicator, Outcome
from models.analytics.views import revisions
from models.core.actors import SYSTEM
from models.core.i18n import use_locale
from models.initiatives.translations import localizer, set_translation
from models.publishing.publish import public_summary, publish
from models.reporting.validation import ValueInput
from models.tables.publication import Publication

from .. import factories as f

V1 = "/api/v1"
C2C = f"{V1}/initiatives/c2c/translations"
SPANISH = {"Accept-Language": "es"}


class World:
    def __init__(self, session, client) -> None:
        self.session, self.client = session, client
        built = f.children_served(session)
        self.init, self.kids = built["init"], built["kids"]
        self.period = f.period(session, self.init, "2025Q3")
        self.members = built["members"]
        other = f.initiative(session, slug="other")
        users = {
            "backbone": f.user(session, "backbone", init=self.init),
            "funder": f.user(session, "funder", init=self.init),
            "reporter": f.user(session, "reporter", org=self.members["p1"].organisation),
            "other_backbone": f.user(session, "backbone", init=other),
            "admin": f.user(session, "admin"),
        }
        session.commit()
        self.headers = f.bearer_headers(client, users)

    def call(self, role: str, method: str, url: str, **kw):
        headers = {**self.headers[role], **kw.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kw)

    def put(self, path: str, text, role: str = "backbone", **kw):
        return self.call(role, "PUT", f"{C2C}/{path}", json={"text": text}, **kw)


@pytest.fixture
def w(session, client) -> World:
    return World(session, client)


def _one(listing: list[dict], entity_type: str, entity: str, field: str) -> dict:
    return next(
        t
        for t in listing
        if (t["entity_type"], t["entity"], t["field"]) == (entity_type, entity, field)
    )


def test_set_list_and_clear_a_translation(w) -> None:
    listing = w.call("backbone", "GET", C2C).json()
    kids = _one(listing, "indicator", "KIDS", "name")
    assert kids == {
        **kids,
        "english": "Children served",
        "locale": "es",
        "text": None,
        "needs_review": False,
    }
    # Every field with English is listed: the initiative's, the outcome's, the categories'.
    assert _one(listing, "initiative", "c2c", "name")["english"] == "Cradle to Career"
    assert _one(listing, "outcome", "READY", "name")["english"] == "Ready for school"
    assert _one(listing, "category", "sex=f", "name")["english"] == "F"

    put = w.put("es/indicator/KIDS/name", "  Niñas y niños atendidos ")
    assert put.status_code == 200, put.text
    assert put.json()["text"] == "Niñas y niños atendidos" and not put.json()["needs_review"]
    assert put.json()["translated_by"]
    again = w.put("es/indicator/KIDS/name", "Niñez atendida")
    assert again.json()["text"] == "Niñez atendida"
    kids = _one(w.call("backbone", "GET", C2C).json(), "indicator", "KIDS", "name")
    assert kids["text"] == "Niñez atendida"
    actions = w.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity_type == "translation")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "update"]

    gone = w.call("backbone", "DELETE", f"{C2C}/es/indicator/KIDS/name")
    assert gone.status_code == 200 and gone.json()["text"] is None
    assert w.call("backbone", "DELETE", f"{C2C}/es/indicator/KIDS/name").status_code == 404
    assert w.session.scalar(select(func.count()).select_from(ContentTranslation)) == 0
    assert w.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "translation")
    ).all()[-1:] == ["delete"]


@pytest.mark.parametrize(
    ("path", "text", "field"),
    [
        ("en/indicator/KIDS/name", "Kids", "locale"),
        ("fr/indicator/KIDS/name", "Enfants", "locale"),
        ("es/period/2025Q3/name", "Trimestre", "entity_type"),
        ("es/indicator/KIDS/code", "NINOS", "field"),
        ("es/indicator/KIDS/description", "Niños", "field"),  # an outcome's field, not its
        ("es/indicator/KIDS/definition", "Niños", "field"),  # its English is empty
        ("es/indicator/KIDS/name", "   ", "text"),
        ("es/indicator/KIDS/name", "x" * 201, "text"),
        ("es/category/sex=f/name", "x" * 121, "text"),
    ],
)
def test_invalid_translations_are_refused_naming_the_field(w, path, text, field) -> None:
    answer = w.put(path, text)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field, answer.json()
    assert w.session.scalar(select(func.count()).select_from(ContentTranslation)) == 0


def test_refusals_are_in_spanish_and_an_unknown_entity_is_404(w) -> None:
    answer = w.put("es/indicator/KIDS/name", "", headers=SPANISH)
    assert answer.status_code == 422
    assert "vacío" in answer.json()["detail"], answer.json()
    missing = w.put("es/indicator/NOPE/name", "Nada", headers=SPANISH)
    assert missing.status_code == 404 and missing.json()["field"] == "entity"
    assert "no tiene" in missing.json()["detail"]
    wrong = w.put("de/indicator/KIDS/name", "Kinder", headers=SPANISH)
    assert "idioma" in wrong.json()["detail"]


def test_only_the_initiatives_backbone_team_and_admins_translate(w) -> None:
    assert w.put("es/indicator/KIDS/name", "Niñez", role="other_backbone").status_code == 404
    assert w.call("other_backbone", "GET", C2C).status_code == 404
    for role in ("funder", "reporter"):
        assert w.put("es/indicator/KIDS/name", "Niñez", role=role).status_code == 403
        assert w.call(role, "GET", C2C).status_code == 403
    assert w.put("es/indicator/KIDS/name", "Niñez", role="admin").status_code == 200
    # Another initiative's indicator is no entity of this one.
    other = f.indicator(w.session, f.initiative(w.session, slug="third"), code="THIRD")
    w.session.commit()
    assert w.put(f"es/indicator/{other.code}/name", "Tercero").status_code == 404


def test_an_english_edit_marks_the_translation_for_review(w) -> None:
    assert w.put("es/indicator/KIDS/name", "Niñez atendida").status_code == 200
    renamed = w.call(
        "backbone", "PATCH", f"{V1}/initiatives/c2c/indicators/KIDS", json={"name": "Kids served"}
    )
    assert renamed.status_code == 200, renamed.text
    kids = _one(w.call("backbone", "GET", C2C).json(), "indicator", "KIDS", "name")
    assert kids["needs_review"] and kids["english"] == "Kids served"
    flagged = w.call("backbone", "GET", C2C, params={"needs_review": "true"}).json()
    assert [(t["entity"], t["field"]) for t in flagged] == [("KIDS", "name")]
    # Still shown: better than English to a Spanish reader.
    loc = localizer(session=w.session, initiative_id=w.init.id, locale="es")
    assert loc.name("indicator", "KIDS", "Kids served") == "Niñez atendida"
    # Saving it again (reviewed) clears the flag.
    assert not w.put("es/indicator/KIDS/name", "Niñez atendida").json()["needs_review"]


def test_every_display_falls_back_to_the_english(w) -> None:
    w.put("es/outcome/READY/name", "Listos para la escuela")
    es = localizer(session=w.session, initiative_id=w.init.id, locale="es")
    en = localizer(session=w.session, initiative_id=w.init.id, locale="en")
    assert es.name("outcome", "READY", "Ready for school") == "Listos para la escuela"
    assert es.name("indicator", "KIDS", "Children served") == "Children served"  # none yet
    assert en.name("outcome", "READY", "Ready for school") == "Ready for school"
    with use_locale("es"):  # the reader's language by default
        shown = localizer(session=w.session, initiative_id=w.init.id)
        assert shown.name("outcome", "READY", "Ready for school") == "Listos para la escuela"


def test_deleting_an_entity_deletes_its_translations(w) -> None:
    w.put("es/indicator/KIDS/name", "Niñez")
    w.put("es/category/sex=f/name", "Femenino")
    w.put("es/outcome/READY/name", "Listos")
    assert w.session.scalar(select(func.count()).select_from(ContentTranslation)) == 3
    # The outcome still groups KIDS, so the API refuses to delete it; the database cascades.
    w.session.delete(w.session.scalar(select(Outcome).where(Outcome.code == "READY")))
    w.session.commit()
    w.session.expire_all()
    kinds = w.session.scalars(select(ContentTranslation.entity_type)).all()
    assert sorted(kinds) == ["category", "indicator"]
    w.session.delete(w.session.get(Indicator, w.kids.id))
    w.session.commit()
    assert w.session.scalars(select(ContentTranslation.entity_type)).all() == ["category"]


def test_a_translation_moves_the_setup_revision_and_refreshes_answers(w) -> None:
    path = f"{V1}/initiatives/c2c/completeness?period=2025Q3"
    first = w.call("backbone", "GET", path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert w.call("backbone", "GET", path, headers={"If-None-Match": etag}).status_code == 304
    before = revisions(session=w.session, actor=SYSTEM, initiative_slug="c2c").setup
    w.put("es/indicator/KIDS/name", "Niñez")
    w.session.expire_all()
    moved = revisions(session=w.session, actor=SYSTEM, initiative_slug="c2c").setup
    assert moved > before
    again = w.call("backbone", "GET", path, headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag
    w.call("backbone", "DELETE", f"{C2C}/es/indicator/KIDS/name")
    w.session.expire_all()
    assert revisions(session=w.session, actor=SYSTEM, initiative_slug="c2c").setup > moved


def _approve_and_publish(w) -> None:
    for org, total in (("p1", 4300), ("p2", 21)):
        f.approved_report(w.session, "c2c", org, "2025Q3", [ValueInput("KIDS", value=total)])
    publish(
        session=w.session,
        actor=SYSTEM,
        initiative_slug="c2c",
        period_key="2025Q3",
        confirm_incomplete=True,
    )
    w.session.commit()


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_publication_freezes_the_translations_the_public_reads(w) -> None:
    for path, text in (
        ("es/indicator/KIDS/name", "Niñez atendida"),
        ("es/outcome/READY/name", "Listos para la escuela"),
        ("es/initiative/c2c/name", "De la cuna a la carrera"),
    ):
        assert w.put(path, text).status_code == 200
    _approve_and_publish(w)
    w.put("es/indicator/KIDS/name", "Cambiado después")  # not published until published again

    def shown(headers: dict) -> dict:
        w.client.cookies.clear()
        answer = w.client.get(f"{V1}/public/initiatives/c2c/summary", headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    spanish = shown(SPANISH)
    kids = spanish["periods"][0]["indicators"][0]
    assert kids["name"] == "Niñez atendida" and kids["outcome_name"] == "Listos para la escuela"
    assert spanish["initiative_name"] == "De la cuna a la carrera"
    english = shown({"Accept-Language": "en"})
    assert english["periods"][0]["indicators"][0]["name"] == "Children served"
    # A vintage frozen before translations existed shows the English.
    pub = w.session.scalar(select(Publication))
    pub.snapshot = {k: v for k, v in pub.snapshot.items() if k != "translations"}
    w.session.commit()
    with use_locale("es"):
        older = public_summary(session=w.session, initiative_slug="c2c")
    assert older["periods"][0]["indicators"][0]["name"] == "Children served"
    # Open data keeps the English.
    with use_locale("es"):
        summary = public_summary(session=w.session, initiative_slug="c2c", locale="en")
    assert summary["initiative_name"] == "Cradle to Career"


def test_the_system_may_set_a_translation_in_the_domain(session) -> None:
    """The domain call the demo uses: no API, the same validation."""
    built = f.children_served(session)
    t = set_translation(
        session=session,
        actor=SYSTEM,
        initiative_slug=built["init"].slug,
        locale="es",
        entity_type="dimension",
        entity="sex",
        field="name",
        text="Sexo",
    )
    assert t.text == "Sexo" and t.english == "Sex"


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_story_is_translated_flagged_when_rewritten_and_published_in_spanish(w) -> None:
    from models.stories.stories import write_story

    def story(text: str) -> None:
        write_story(
            session=w.session,
            actor=SYSTEM,
            initiative_slug="c2c",
            indicator_code="KIDS",
            period_key="2025Q3",
            text=text,
        )
        w.session.commit()

    story("Attendance rose after the **summer** programme.")
    assert (
        w.put(
            "es/story/KIDS@2025Q3/text", "La asistencia subió tras el programa de **verano**."
        ).status_code
        == 200
    )
    story("Attendance rose after the summer programme, most in the east.")
    listed = _one(w.call("backbone", "GET", C2C).json(), "story", "KIDS@2025Q3", "text")
    assert listed["needs_review"] and listed["english"].endswith("most in the east.")
    _approve_and_publish(w)
    w.client.cookies.clear()
    public = w.client.get(f"{V1}/public/initiatives/c2c/summary", headers=SPANISH).json()
    # Flagged, it translates a wording no longer published: the public reads the English.
    [told] = public["periods"][0]["stories"]
    assert told["text"].endswith("most in the east."), told
    # Reviewed and published again, the public reads it in Spanish.
    reviewed = "La asistencia subió tras el programa de **verano**, sobre todo en el este."
    assert w.put("es/story/KIDS@2025Q3/text", reviewed).status_code == 200
    publish(
        session=w.session,
        actor=SYSTEM,
        initiative_slug="c2c",
        period_key="2025Q3",
        confirm_incomplete=True,
    )
    w.session.commit()
    w.client.cookies.clear()
    public = w.client.get(f"{V1}/public/initiatives/c2c/summary", headers=SPANISH).json()
    [told] = public["periods"][0]["stories"]
    assert told["text"].startswith("La asistencia") and "<strong>verano</strong>" in told["html"]


def test_a_translation_whose_english_was_emptied_is_not_shown_and_can_go(w) -> None:
    assert w.put("es/outcome/READY/description", "x").status_code == 422  # no English yet
    w.call(
        "backbone",
        "PATCH",
        f"{V1}/initiatives/c2c/outcomes/READY",
        json={"description": "Children are ready to learn."},
    )
    assert w.put("es/outcome/READY/description", "Listos para aprender").status_code == 200
    w.call("backbone", "PATCH", f"{V1}/initiatives/c2c/outcomes/READY", json={"description": None})
    loc = localizer(session=w.session, initiative_id=w.init.id, locale="es")
    assert loc.text("outcome", "READY", "description", "") == ""
    gone = w.call("backbone", "DELETE", f"{C2C}/es/outcome/READY/description")
    assert gone.status_code == 200, gone.text
    assert w.session.scalar(select(func.count()).select_from(ContentTranslation)) == 0


def test_a_cross_tab_and_its_pairs_are_named_from_their_components(session) -> None:
    """README, "Cross-tabs": a pair is named from its row and column categories; in Spanish
    too, once both components are translated, unless the pair has a translation of its own."""
    from models.initiatives.translations import frozen_translations

    init = f.initiative(session, slug="c2c")
    race = f.dimension(session, init, "race", ["black", "white"])
    income = f.dimension(session, init, "income", ["low", "high"])
    f.cross_tab(session, init, race, income)
    session.commit()

    def put(entity_type: str, entity: str, text: str) -> None:
        set_translation(
            session=session,
            actor=SYSTEM,
            initiative_slug="c2c",
            locale="es",
            entity_type=entity_type,
            entity=entity,
            field="name",
            text=text,
        )
        session.commit()

    def spanish(entity_type: str, key: str, english: str) -> str:
        loc = localizer(session=session, initiative_id=init.id, locale="es")
        return loc.name(entity_type, key, english)

    put("dimension", "race", "Raza")
    put("category", "race=black", "Negra")
    # Half a pair translated: the English stays whole rather than half Spanish.
    assert spanish("category", "race_x_income=black.low", "Black · Low") == "Black · Low"
    assert spanish("dimension", "race_x_income", "Race × Income") == "Race × Income"
    put("dimension", "income", "Ingreso")
    put("category", "income=low", "Bajo")
    assert spanish("category", "race_x_income=black.low", "Black · Low") == "Negra · Bajo"
    assert spanish("category", "race_x_income=white.low", "White · Low") == "White · Low"
    assert spanish("dimension", "race_x_income", "Race × Income") == "Raza × Ingreso"
    put("category", "race_x_income=black.low", "Negras de bajo ingreso")  # its own wins
    assert spanish("category", "race_x_income=black.low", "x") == "Negras de bajo ingreso"
    # A publication freezes the composed names with the components' translations.
    snapshot = {
        "period": "2025Q3",
        "indicators": [
            {
                "indicator": "KIDS",
                "name": "Kids",
                "breakdowns": [
                    {
                        "dimension": "race_x_income",
                        "dimension_name": "Race × Income",
                        "categories": [
                            {"key": "race_x_income=black.high", "label": "Black · High"},
                            {"key": "race_x_income=white.high", "label": "White · High"},
                        ],
                    }
                ],
            }
        ],
    }
    put("category", "income=high", "Alto")
    frozen = frozen_translations(session=session, initiative_id=init.id, snapshot=snapshot)["es"]
    assert frozen["dimension:race_x_income:name"] == "Raza × Ingreso"
    assert frozen["category:race_x_income=black.high:name"] == "Negra · Alto"
    assert "category:race_x_income=white.high:name" not in frozen  # "White" is not translated
