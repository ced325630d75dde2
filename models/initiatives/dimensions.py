"""Dimensions and categories: the disaggregations (race, income …) indicators are broken down by.

A category that holds reported values cannot be deleted (409). A *cross-tab* is a dimension
composed of two others (``components``: rows, columns); its categories are their pairs, kept in
step with them here, and capped at ``MAX_CROSS_CELLS`` (README, "Cross-tabs").

The rules every configuration function follows are in :mod:`models.initiatives`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from models.access.permissions import manageable_initiative, viewable_initiative
from models.audit.trail import EntityAudit, snapshot
from models.core.actors import Actor
from models.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
)
from models.core.fields import (
    any_row,
    checked_integer,
    checked_pattern,
    checked_text,
    flush_unique,
    reject_unknown_changes,
)
from models.core.i18n import gettext
from models.core.paging import DEFAULT_LIMIT, Page, page_of
from models.initiatives.outcomes import next_position
from models.tables.indicator import (
    MAX_CROSS_CELLS,
    Category,
    Dimension,
    pair_code,
    split_pair,
)
from models.tables.initiative import Initiative
from models.tables.reporting import Value

# Dimension and category codes make disaggregation keys ("race=black"): no "=", "," or spaces.
DIMENSION_CODE_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"


def _dimension_snapshot(dimension: Dimension) -> dict[str, Any]:
    out = {
        **snapshot(dimension, ("code", "name", "position")),
        "categories": [snapshot(c, ("code", "name", "position")) for c in dimension.categories],
    }
    if dimension.components is not None:
        out["components"] = dimension.components
    return out


def _cross_tabs_on(session: Session, dimension: Dimension) -> list[Dimension]:
    """The cross-tabs composed of ``dimension``."""
    return list(
        session.scalars(
            select(Dimension)
            .where(
                (Dimension.row_dimension_id == dimension.id)
                | (Dimension.column_dimension_id == dimension.id)
            )
            .options(selectinload(Dimension.categories))
        )
    )


def _components(
    session: Session, initiative: Initiative, codes: object
) -> tuple[Dimension, Dimension]:
    """The two plain dimensions a new cross-tab is composed of (422, ``components``)."""
    if not isinstance(codes, list | tuple) or len(codes) != 2:
        raise InvalidInput(
            gettext("a cross-tab names two dimensions: [rows, columns]"), field="components"
        )
    found = []
    for index, code in enumerate(codes):
        where = f"components[{index}]"
        if not isinstance(code, str):
            raise InvalidInput(gettext("must be a dimension code"), field=where)
        dimension = session.scalar(
            select(Dimension)
            .where(Dimension.initiative_id == initiative.id, Dimension.code == code)
            .options(selectinload(Dimension.categories))
        )
        if dimension is None:
            raise InvalidInput(
                gettext("no dimension %(code)r in %(slug)r", code=code, slug=initiative.slug),
                field=where,
            )
        if dimension.components is not None:
            raise InvalidInput(
                gettext(
                    "%(code)r is a cross-tab itself; a cross-tab is composed of plain dimensions",
                    code=code,
                ),
                field=where,
            )
        found.append(dimension)
    if found[0].id == found[1].id:
        raise InvalidInput(
            gettext("a cross-tab needs two different dimensions"), field="components"
        )
    # The same pairs twice (e.g. race × income and income × race) would be suppressed as two
    # tables, and what one hid the other could show: one cross-tab per two dimensions.
    twin = session.scalar(
        select(Dimension.code).where(
            Dimension.initiative_id == initiative.id,
            or_(
                and_(
                    Dimension.row_dimension_id == found[0].id,
                    Dimension.column_dimension_id == found[1].id,
                ),
                and_(
                    Dimension.row_dimension_id == found[1].id,
                    Dimension.column_dimension_id == found[0].id,
                ),
            ),
        )
    )
    if twin is not None:
        raise InvalidInput(
            gettext(
                "%(rows)s × %(columns)s is declared already, as %(twin)r",
                rows=found[0].code,
                columns=found[1].code,
                twin=twin,
            ),
            field="components",
        )
    return found[0], found[1]


def _sync_pairs(cross: Dimension, *, field: str) -> None:
    """Give the cross-tab one category per pair of its components' categories ("Black · Low
    income"), renaming pairs whose parts were renamed. Refused (422, ``field``) beyond the cap
    on pairs, or where a pair's code would be longer than a category code may be."""
    rows, columns = cross.row_dimension, cross.column_dimension
    assert rows is not None and columns is not None  # a cross-tab
    count = len(rows.categories) * len(columns.categories)
    if count > MAX_CROSS_CELLS:
        raise InvalidInput(
            gettext(
                "%(rows)s × %(columns)s would have %(count)s combinations; a cross-tab has at "
                "most %(most)s",
                rows=rows.code,
                columns=columns.code,
                count=count,
                most=MAX_CROSS_CELLS,
            ),
            field=field,
        )
    by_code = {c.code: c for c in cross.categories}
    for i, r in enumerate(rows.categories):
        for j, c in enumerate(columns.categories):
            code = pair_code(r.code, c.code)
            if len(code) > 40:
                raise InvalidInput(
                    gettext(
                        "the pair %(code)r is longer than a category code may be (40 characters)",
                        code=code,
                    ),
                    field=field,
                )
            name = f"{r.name} · {c.name}"[:120]
            position = i * len(columns.categories) + j
            found = by_code.get(code)
            if found is None:
                cross.categories.append(Category(code=code, name=name, position=position))
            else:
                found.name, found.position = name, position


def _find_dimension(session: Session, initiative: Initiative, code: str) -> Dimension:
    dimension = session.scalar(
        select(Dimension)
        .where(Dimension.initiative_id == initiative.id, Dimension.code == code)
        .options(selectinload(Dimension.categories))
    )
    if dimension is None:
        raise NotFound(
            gettext("no dimension %(code)r in %(slug)r", code=code, slug=initiative.slug),
            field="code",
        )
    return dimension


def _category_has_values(session: Session, category_ids: Iterable[int]) -> bool:
    ids = list(category_ids)
    return bool(ids) and any_row(
        session=session, stmt=select(Value.id).where(Value.category_id.in_(ids))
    )


def _apply_categories(
    dimension: Dimension, categories: Sequence[Mapping[str, Any]], *, field: str
) -> None:
    """Add new categories and rename (or move) existing ones, matched by code."""
    by_code = {c.code: c for c in dimension.categories}
    seen: set[str] = set()
    next_position = max((c.position for c in dimension.categories), default=-1) + 1
    for index, item in enumerate(categories):
        where = f"{field}[{index}]"
        code = checked_pattern(
            item.get("code"), DIMENSION_CODE_PATTERN, f"{where}.code", "category code"
        )
        if code in seen:
            raise InvalidInput(
                gettext("category %(code)r is listed twice", code=code), field=f"{where}.code"
            )
        seen.add(code)
        name = checked_text(item.get("name"), f"{where}.name", max_length=120)
        position = item.get("position")
        if position is not None:
            position = checked_integer(position, f"{where}.position")
        category = by_code.get(code)
        if category is None:
            if position is None:
                position, next_position = next_position, next_position + 1
            dimension.categories.append(Category(code=code, name=name, position=position))
        else:
            category.name = name
            if position is not None:
                category.position = position


def list_dimensions(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[Dimension]:
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    stmt = (
        select(Dimension)
        .where(Dimension.initiative_id == init.id)
        .order_by(Dimension.position, Dimension.code)
        .options(selectinload(Dimension.categories))
    )
    return page_of(session=session, stmt=stmt, limit=limit, offset=offset)


def get_dimension(*, session: Session, actor: Actor, initiative: str, code: str) -> Dimension:
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    return _find_dimension(session, init, code)


def create_dimension(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    code: str,
    name: str,
    position: int | None = None,
    categories: Sequence[Mapping[str, Any]] = (),
    components: Sequence[str] | None = None,
) -> Dimension:
    """A plain dimension with ``categories``, or a cross-tab of the two ``components`` (rows,
    columns) whose categories are their pairs."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    code = checked_pattern(code, DIMENSION_CODE_PATTERN, "code", "dimension code")
    name = checked_text(name, "name", max_length=120)
    if position is None:
        position = next_position(
            session=session, column=Dimension.position, where=Dimension.initiative_id == init.id
        )
    position = checked_integer(position, "position")
    taken = select(Dimension.id).where(Dimension.initiative_id == init.id, Dimension.code == code)
    if any_row(session=session, stmt=taken):
        raise Conflict(
            gettext("a dimension with code %(code)r exists already", code=code), field="code"
        )
    dimension = Dimension(
        initiative_id=init.id, code=code, name=name, position=position, categories=[]
    )
    if components is not None:
        if categories:
            raise InvalidInput(
                gettext("a cross-tab's categories are the pairs of its components"),
                field="categories",
            )
        dimension.row_dimension, dimension.column_dimension = _components(session, init, components)
        _sync_pairs(dimension, field="components")
    else:
        _apply_categories(dimension, categories, field="categories")
    session.add(dimension)
    flush_unique(
        session=session,
        field="code",
        message=gettext("a dimension with code %(code)r exists already", code=code),
    )
    EntityAudit(
        session=session, actor=actor, entity_type="dimension", initiative_id=init.id
    ).created(dimension.id, _dimension_snapshot(dimension))
    return dimension


def update_dimension(
    *, session: Session, actor: Actor, initiative: str, code: str, changes: Mapping[str, Any]
) -> Dimension:
    """Rename or move the dimension; ``categories`` adds new codes and renames existing ones.

    Categories left out are kept; delete one with :func:`delete_category`. Codes never change,
    because reported values carry them in their disaggregation keys.
    """
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    dimension = _find_dimension(session, init, code)
    reject_unknown_changes(changes, ("name", "position", "categories"))
    before = _dimension_snapshot(dimension)
    for name, value in changes.items():
        if name == "name":
            dimension.name = checked_text(value, name, max_length=120)
        elif name == "position":
            dimension.position = checked_integer(value, name)
        else:
            if value is None:
                raise InvalidInput(gettext("must be a list"), field=name)
            if dimension.components is not None:
                raise InvalidInput(
                    gettext(
                        "a cross-tab's categories are the pairs of its components; change those"
                    ),
                    field=name,
                )
            _apply_categories(dimension, value, field=name)
    session.flush()
    dimension.categories.sort(key=lambda c: (c.position, c.code))
    for cross in _cross_tabs_on(session, dimension):
        _sync_pairs(cross, field="categories")
    session.flush()
    after = _dimension_snapshot(dimension)
    if after != before:
        EntityAudit(
            session=session, actor=actor, entity_type="dimension", initiative_id=init.id
        ).updated(dimension.id, before, after)
    return dimension


def delete_dimension(*, session: Session, actor: Actor, initiative: str, code: str) -> Dimension:
    """Refused while any value is reported in one of its categories."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    dimension = _find_dimension(session, init, code)
    if _category_has_values(session, (c.id for c in dimension.categories)):
        raise Conflict(
            gettext("values are reported by %(code)r; it cannot be deleted", code=code),
            field="code",
        )
    crosses = _cross_tabs_on(session, dimension)
    if crosses:
        raise Conflict(
            gettext(
                "the cross-tab %(cross)r is composed of %(code)r; delete it first",
                cross=crosses[0].code,
                code=code,
            ),
            field="code",
        )
    EntityAudit(
        session=session, actor=actor, entity_type="dimension", initiative_id=init.id
    ).deleted(dimension.id, _dimension_snapshot(dimension))
    session.delete(dimension)
    session.flush()
    return dimension


def delete_category(
    *, session: Session, actor: Actor, initiative: str, code: str, category: str
) -> Dimension:
    """Remove one category; refused while values are reported in it. Answers the dimension."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    dimension = _find_dimension(session, init, code)
    found = next((c for c in dimension.categories if c.code == category), None)
    if found is None:
        raise NotFound(
            gettext("no category %(category)r in dimension %(code)r", category=category, code=code),
            field="category",
        )
    if _category_has_values(session, [found.id]):
        raise Conflict(
            gettext(
                "values are reported for %(code)s=%(category)s; it cannot be deleted",
                code=code,
                category=category,
            ),
            field="category",
        )
    if dimension.components is not None:
        raise Conflict(
            gettext(
                "a cross-tab's categories are the pairs of its components; delete one of those"
            ),
            field="category",
        )
    # Its pairs in the cross-tabs composed of this dimension go with it (not while they hold
    # values).
    pairs = []
    for cross in _cross_tabs_on(session, dimension):
        on_rows = cross.row_dimension_id == dimension.id
        pairs += [
            (cross, c)
            for c in cross.categories
            if split_pair(c.code)[0 if on_rows else 1] == category
        ]
    if _category_has_values(session, (c.id for _, c in pairs)):
        raise Conflict(
            gettext(
                "values are reported for pairs of %(code)s=%(category)s in a cross-tab; it "
                "cannot be deleted",
                code=code,
                category=category,
            ),
            field="category",
        )
    for cross, pair in pairs:
        cross.categories.remove(pair)
    EntityAudit(
        session=session, actor=actor, entity_type="category", initiative_id=init.id
    ).deleted(found.id, {"dimension": code, **snapshot(found, ("code", "name", "position"))})
    dimension.categories.remove(found)
    session.flush()
    return dimension
