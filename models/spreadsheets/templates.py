"""Import templates (CSV and Excel) pre-filled with a member's obligations for one period.

One row per obligation × (total + each allowed category), with the values already entered in
the draft filled in, so a partner downloads, fills the empty cells and uploads the same file.
Only whoever may write the submission (a reporter of the organisation, the backbone team) gets
a template; anyone else gets the same 404 as for the submission itself.

The Excel template adds what a spreadsheet can enforce: a bold frozen header, a drop-down of the
allowed disaggregations on every row, whole numbers ≥ 0 for numerators, denominators and counts,
and an Instructions sheet that explains every column and rule.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.access.permissions import get_initiative
from models.core import dates
from models.core.actors import Actor
from models.core.errors import InvalidInput, NotFound
from models.core.formulas import neutralise
from models.core.i18n import gettext
from models.reporting.submissions import get_submission, partner_period
from models.reporting.words import measure_type_name
from models.spreadsheets.exports import plain_number, xlsx_safe
from models.tables.indicator import (
    TOTAL,
    Category,
    Dimension,
    Indicator,
    Obligation,
    indicator_dimensions,
)
from models.tables.initiative import Member
from models.tables.organisation import Organisation

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

TEMPLATE_COLUMNS = (
    "organisation",
    "period",
    "indicator",
    "indicator_name",
    "unit",
    "measure_type",
    "disaggregation",
    "value",
    "numerator",
    "denominator",
    "note",
)
_NUMBERS = ("value", "numerator", "denominator")
_WIDTHS = {
    "organisation": 22,
    "period": 10,
    "indicator": 16,
    "indicator_name": 36,
    "unit": 12,
    "measure_type": 13,
    "disaggregation": 24,
    "value": 12,
    "numerator": 12,
    "denominator": 13,
    "note": 40,
}

# What each column means and how to fill the file, for the Instructions sheet, in the reader's
# language (README, "Languages"): the column *names* are the file's keys and never translated.


def column_help() -> dict[str, str]:
    """Each column's meaning, by its (untranslated) name."""
    return {
        "organisation": gettext("Your organisation's code (slug). Leave as filled in."),
        "period": gettext("The reporting period's key, e.g. 2025Q3 or 2025. Leave as filled in."),
        "indicator": gettext("The indicator's code. Leave as filled in."),
        "indicator_name": gettext("For reading only; ignored on upload."),
        "unit": gettext("For reading only; ignored on upload."),
        "measure_type": gettext(
            "For reading only: count, amount, rate or average; ignored on upload."
        ),
        "disaggregation": gettext(
            "'total' for the whole, or dimension=category (e.g. race=black) for a breakdown; "
            "only the indicator's allowed categories are accepted."
        ),
        "value": gettext(
            "Counts and amounts: the number. Averages: the mean. Rates: leave empty (it is "
            "computed from numerator and denominator)."
        ),
        "numerator": gettext("Rates only: how many met the measure (a whole number ≥ 0)."),
        "denominator": gettext(
            "Rates: how many were measured (a whole number > 0, at least the numerator). "
            "Averages: how many cases the mean is over."
        ),
        "note": gettext("Optional context for the backbone team (at most 2000 characters)."),
    }


def rules() -> tuple[str, ...]:
    """How to fill the template, one rule a line."""
    return (
        gettext("Fill the value cells of the rows you report; rows left empty are skipped."),
        gettext("Counts are whole numbers ≥ 0. Amounts may be negative or have decimals."),
        gettext(
            "Rates need a numerator and a denominator (whole numbers, numerator ≤ "
            "denominator); the percentage is computed for you."
        ),
        gettext("Averages need the value and, in denominator, the number of cases it averages."),
        gettext("Values outside an indicator's valid range are refused."),
        gettext(
            "Write plain numbers: digits with '.' for decimals, no thousands separators "
            "(1234.5, not 1,234.5). Do not use formulas or dates in number cells — paste "
            "values only."
        ),
        gettext(
            "Breakdowns whose categories do not add up to the total are accepted but flagged, "
            "as are cross-tab rows (e.g. race_x_income=black.low, black.not_low …) that do not "
            "add up to their one-way figure (race=black)."
        ),
        gettext(
            "The whole file is checked first: if any row is wrong, nothing is saved and every "
            "problem is listed with its row number (the header is row 1), column and reason."
        ),
        gettext(
            "Uploading the same file twice changes nothing. Uploading never deletes a value: an "
            "empty cell means 'not reported in this file'."
        ),
        gettext("Only draft or returned reports in open periods can be changed."),
    )


@dataclass(frozen=True)
class TemplateRow:
    organisation: str
    period: str
    indicator: str
    indicator_name: str
    unit: str
    measure_type: str
    disaggregation: str
    value: float | None
    numerator: float | None
    denominator: float | None
    note: str | None
    allowed: tuple[str, ...]  # the disaggregations the indicator accepts, total first

    def cells(self) -> list[Any]:
        """The row in ``TEMPLATE_COLUMNS`` order: text or numbers, by column. The measure type
        is there for reading (ignored on upload), so it is written in the reader's words."""
        return [
            measure_type_name(self.measure_type) if name == "measure_type" else getattr(self, name)
            for name in TEMPLATE_COLUMNS
        ]


@dataclass
class Template:
    initiative: str
    period: str
    organisations: list[str]
    rows: list[TemplateRow] = field(default_factory=list)

    def filename(self, ext: str) -> str:
        who = self.organisations[0] if len(self.organisations) == 1 else "all"
        return f"{self.initiative}-{who}-{self.period}-template.{ext}"


def _default_period(
    session: Session, initiative_id: int, members: list[tuple[str, int]], today: date
) -> str:
    """The latest period the template's members may write today, by the rule their saves
    obey (``models.reporting.submissions.partner_period``: open, or closed with a deadline
    extension running), or why there is none."""
    period = partner_period(
        session=session,
        initiative_id=initiative_id,
        member_ids=[member_id for _slug, member_id in members],
        today=today,
    )
    if period is None:
        whose = members[0][0] if len(members) == 1 else "these members"
        raise InvalidInput(
            gettext(
                "no period is open for reporting, nor extended for %(whose)s; name one "
                "with period=",
                whose=whose,
            ),
            field="period",
        )
    return period.key


def build_template(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str | None = None,
    period_key: str | None = None,
    today: date | None = None,
) -> Template:
    """The template's rows for one organisation (or, without ``org_slug``, every organisation
    the actor reports for — all members for the backbone) and one period (default: the latest
    one those members' reporters may write today, an extended deadline included)."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    members = select(Organisation.slug, Member.id).join(
        Member, Member.organisation_id == Organisation.id
    )
    members = members.where(Member.initiative_id == initiative.id)
    # A member the actor may not see is missing, as for its submission (404), before the
    # default period is read for it.
    if not actor.is_backbone(initiative.id):
        members = members.where(Organisation.id.in_(actor.reporter_orgs(initiative.id)))
    elif org_slug is None:
        members = members.where(Member.active.is_(True))
    if org_slug is not None:
        members = members.where(Organisation.slug == org_slug)
    selected = session.execute(members.order_by(Organisation.slug)).all()
    if not selected:
        if org_slug is not None:
            raise NotFound(
                gettext("no member %(org_slug)r in this initiative", org_slug=org_slug), field="org"
            )
        raise NotFound(gettext("you report for no member of this initiative"), field="org")
    today = today or dates.today()
    period_key = period_key or _default_period(
        session, initiative.id, [(slug, member_id) for slug, member_id in selected], today
    )

    # Permission, the period and the values already entered: the submission's own rules (404).
    views = {
        slug: get_submission(
            session=session,
            actor=actor,
            initiative_slug=initiative_slug,
            org_slug=slug,
            period_key=period_key,
        )
        for slug, _ in selected
    }
    indicators = {
        row.id: row
        for row in session.execute(
            select(
                Indicator.id,
                Indicator.code,
                Indicator.name,
                Indicator.unit,
                Indicator.measure_type,
                Indicator.position,
            ).where(Indicator.initiative_id == initiative.id)
        )
    }
    allowed: dict[int, list[str]] = defaultdict(lambda: [TOTAL])
    for indicator_id, dim_code, cat_code in session.execute(
        select(indicator_dimensions.c.indicator_id, Dimension.code, Category.code)
        .join(Dimension, Dimension.id == indicator_dimensions.c.dimension_id)
        .join(Category, Category.dimension_id == Dimension.id)
        .where(Dimension.initiative_id == initiative.id)
        .order_by(Dimension.position, Dimension.code, Category.position, Category.code)
    ):
        allowed[indicator_id].append(f"{dim_code}={cat_code}")
    obligations: dict[int, list[int]] = defaultdict(list)
    for member_id, indicator_id in session.execute(
        select(Obligation.member_id, Obligation.indicator_id).where(
            Obligation.member_id.in_([member_id for _, member_id in selected])
        )
    ):
        obligations[member_id].append(indicator_id)

    template = Template(initiative.slug, period_key, [slug for slug, _ in selected])
    for slug, member_id in selected:
        entered = {(v.indicator, v.disaggregation): v for v in views[slug].values}
        ordered = sorted(
            (indicators[i] for i in obligations[member_id]), key=lambda r: (r.position, r.code)
        )
        for ind in ordered:
            keys = tuple(allowed[ind.id])
            for key in keys:
                value = entered.get((ind.code, key))
                number = numerator = denominator = None
                if value is not None:
                    numerator, denominator = value.numerator, value.denominator
                    number = None if ind.measure_type == "rate" else value.value
                template.rows.append(
                    TemplateRow(
                        organisation=slug,
                        period=period_key,
                        indicator=ind.code,
                        indicator_name=ind.name,
                        unit=ind.unit,
                        measure_type=ind.measure_type,
                        disaggregation=key,
                        value=number,
                        numerator=numerator,
                        denominator=denominator,
                        note=value.note if value is not None else None,
                        allowed=keys,
                    )
                )
    return template


# --- CSV ------------------------------------------------------------------------------------


def template_csv(template: Template) -> str:
    """The template as CSV text (with a BOM so Excel opens it as UTF-8)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS)
    for row in template.rows:
        writer.writerow(
            [
                plain_number(cell) if name in _NUMBERS else (neutralise(cell) or "")
                for name, cell in zip(TEMPLATE_COLUMNS, row.cells(), strict=True)
            ]
        )
    return buffer.getvalue()


# --- Excel ----------------------------------------------------------------------------------


def _letter(name: str) -> str:
    from openpyxl.utils import get_column_letter

    letter: str = get_column_letter(TEMPLATE_COLUMNS.index(name) + 1)
    return letter


def _runs(rows: list[int]) -> list[str]:
    """Row numbers → compact ranges ("2:5", "8:8") for data-validation sqrefs."""
    if not rows:
        return []
    runs: list[str] = []
    start = previous = rows[0]
    for r in rows[1:]:
        if r == previous + 1:
            previous = r
        else:
            runs.append(f"{start}:{previous}")
            start = previous = r
    runs.append(f"{start}:{previous}")
    return runs


def template_xlsx(template: Template) -> bytes:
    """The template as an Excel workbook: Values, Instructions and a hidden Lists sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Values"
    sheet.append(list(TEMPLATE_COLUMNS))
    header_fill = PatternFill("solid", fgColor="DDE4EE")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center")
    sheet.freeze_panes = "A2"
    for name, width in _WIDTHS.items():
        sheet.column_dimensions[_letter(name)].width = width
    informational = Font(color="666666")
    for row in template.rows:
        sheet.append(
            [
                cell if name in _NUMBERS else neutralise(xlsx_safe(cell))
                for name, cell in zip(TEMPLATE_COLUMNS, row.cells(), strict=True)
            ]
        )
        for name in ("indicator_name", "unit", "measure_type"):
            sheet.cell(sheet.max_row, TEMPLATE_COLUMNS.index(name) + 1).font = informational
    last = max(sheet.max_row, 2)
    sheet.auto_filter.ref = f"A1:{_letter('note')}{last}"

    # Disaggregation: a drop-down of the indicator's allowed keys, from a hidden Lists sheet.
    lists = workbook.create_sheet("Lists")
    lists.sheet_state = "hidden"
    by_allowed: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for number, row in enumerate(template.rows, start=2):
        by_allowed[row.allowed].append(number)
    col = _letter("disaggregation")
    for index, (keys, numbers) in enumerate(by_allowed.items(), start=1):
        list_col = get_column_letter(index)
        for r, key in enumerate(keys, start=1):
            lists.cell(r, index, key)
        validation = DataValidation(
            type="list",
            formula1=f"Lists!${list_col}$1:${list_col}${len(keys)}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=gettext("Disaggregation"),
            error=gettext("Choose total or one of this indicator's categories from the list."),
        )
        for run in _runs(numbers):
            start, end = run.split(":")
            validation.add(f"{col}{start}:{col}{end}")
        sheet.add_data_validation(validation)

    whole = DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=gettext("Whole number"),
        error=gettext("Numerators, denominators and counts are whole numbers ≥ 0."),
    )
    whole.add(f"{_letter('numerator')}2:{_letter('denominator')}{max(last, 1000)}")
    counts = [n for n, row in enumerate(template.rows, start=2) if row.measure_type == "count"]
    for run in _runs(counts):
        start, end = run.split(":")
        whole.add(f"{_letter('value')}{start}:{_letter('value')}{end}")
    sheet.add_data_validation(whole)

    _instructions(workbook.create_sheet("Instructions", 1), template)
    workbook.active = 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _instructions(sheet: Worksheet, template: Template) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 100
    wrap = Alignment(wrap_text=True, vertical="top")
    sheet.append([gettext("How to fill this template")])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [
            gettext("Report"),
            xlsx_safe(
                gettext(
                    "%(initiative)s, period %(period)s, for %(organisations)s",
                    initiative=template.initiative,
                    period=template.period,
                    organisations=", ".join(template.organisations),
                )
            ),
        ]
    )
    sheet.append([])
    sheet.append([gettext("Column"), gettext("Meaning")])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    meanings = column_help()
    for name in TEMPLATE_COLUMNS:
        sheet.append([name, meanings[name]])
        sheet.cell(sheet.max_row, 2).alignment = wrap
    sheet.append([])
    sheet.append([gettext("Rules")])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    for number, rule in enumerate(rules(), start=1):
        sheet.append([f"{number}.", rule])
        sheet.cell(sheet.max_row, 2).alignment = wrap
