"""The skeleton every signed-in page shares: its opening, its pickers and its frame.

A page's ``layout`` reads, top to bottom::

    entry = enter("/reporting", "reporting", data.review_workspaces, NOT_ALLOWED, ...)
    if entry.instead is not None:
        return entry.instead  # the login page, "not allowed", or an error
    ...  # the page's own data, for entry.slug
    return frame("reporting", "Reporting", "What it is for.", pickers(...), ...)

Element ids follow the page's name: ``{page}-initiative`` for the initiative picker,
``{page}-not-allowed`` for the alert shown to users without a workspace, and the store
``{page}-url-sync`` that keeps the address bar in step (``common.sync_url``).

The backbone team's period pages (reporting, review, publish) open with ``enter_period``,
show ``period_pickers`` and keep the period picker in step with ``follow_initiative``;
``{page}-period`` is their period picker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.development.base_component import Component

from dashboard import data
from dashboard.components.common import error_alert, login_redirect
from dashboard.components.periods import choose_period
from models.core.i18n import gettext

# How a period page picks its period: (initiative, period asked for) → (options, period).
Periods = Callable[[str, str | None], tuple[list[dict], str | None]]


def no_figures() -> str:
    return gettext("You may not see the figures of any initiative.")


@dataclass(frozen=True)
class Entry:
    """What a page's opening decided: the initiative to show, chosen among the workspaces the
    user may pick (with their picker options), or what to show instead of the page."""

    slug: str | None = None
    spaces: tuple[Any, ...] = ()
    options: tuple[dict, ...] = ()
    instead: Component | None = None
    period: str | None = None
    period_options: tuple[dict, ...] = ()


def enter(
    path: str,
    page: str,
    workspaces: Callable[[], Sequence[tuple[str, str]] | Sequence[data.Workspace]],
    not_allowed: str,
    *,
    colour: str = "danger",
    initiative: str | None = None,
    **query: str | None,
) -> Entry:
    """The opening of a signed-in page at ``path``: an anonymous visitor goes to the login page
    and back here with the same query; a user without any of the page's ``workspaces`` (the
    data call listing them, as (slug, name) or ``data.Workspace``) reads ``not_allowed``;
    anyone else sees the ``initiative`` asked for when it is theirs, else their first."""
    if not data.whoami().logged_in:
        return Entry(instead=login_redirect(path, initiative=initiative, **query))
    try:
        spaces = tuple(workspaces())
    except data.DomainError as exc:
        return Entry(instead=error_alert(exc))
    if not spaces:
        return Entry(instead=dbc.Alert(not_allowed, color=colour, id=f"{page}-not-allowed"))
    named = [(s.slug, s.name) if isinstance(s, data.Workspace) else s for s in spaces]
    slug = initiative if initiative in dict(named) else named[0][0]
    options = tuple({"label": name, "value": s} for s, name in named)
    return Entry(slug=slug, spaces=spaces, options=options)


def enter_period(
    path: str,
    page: str,
    not_allowed: str,
    initiative: str | None,
    period: str | None,
    periods: Periods = choose_period,
) -> Entry:
    """The opening of a backbone page with a period picker: ``enter`` over the initiatives
    whose submissions the user reviews, with the ``initiative`` and ``period`` the address
    asks for, then the period ``periods`` picks for the initiative shown (an error reading
    them is shown instead of the page)."""
    entry = enter(
        path, page, data.review_workspaces, not_allowed, initiative=initiative, period=period
    )
    if entry.instead is not None:
        return entry
    try:
        options, period = periods(entry.slug, period)
    except data.DomainError as exc:
        return Entry(instead=error_alert(exc))
    return replace(entry, period=period, period_options=tuple(options))


def follow_initiative(page: str, periods: Periods = choose_period, *, keep: bool = True) -> None:
    """Registers the callback that refills ``{page}-period`` when another initiative is
    picked: ``periods`` for it, keeping the period shown when ``keep`` and the initiative has
    it; no periods when they cannot be read."""
    kept = [State(f"{page}-period", "value")] if keep else []

    @callback(
        Output(f"{page}-period", "options"),
        Output(f"{page}-period", "value"),
        Input(f"{page}-initiative", "value"),
        *kept,
        prevent_initial_call=True,
    )
    def _choose_initiative(initiative, period=None):
        try:
            return periods(initiative, period)
        except data.DomainError:
            return [], None


def picker(
    label: str, ident: str, options, value, *, md: int, narrow: dict | None = None, **dropdown
) -> dbc.Col:
    """A labelled dropdown in a column ``md`` twelfths wide (and as ``narrow`` says on
    smaller screens, e.g. ``{"xs": 12, "sm": 6}``)."""
    return dbc.Col(
        [
            dbc.Label(label, html_for=ident, className="cm-muted-label"),
            dcc.Dropdown(id=ident, options=options, value=value, **dropdown),
        ],
        **(narrow or {}),
        md=md,
    )


def initiative_picker(page: str, entry: Entry, *, md: int) -> dbc.Col:
    """The initiative dropdown (``{page}-initiative``) over the entry's workspaces."""
    return picker(
        gettext("Initiative"),
        f"{page}-initiative",
        list(entry.options),
        entry.slug,
        md=md,
        clearable=False,
    )


def pickers(*columns: dbc.Col) -> dbc.Row:
    """The row of pickers under a page's title."""
    return dbc.Row(list(columns), className="g-3 mb-3")


def period_pickers(page: str, entry: Entry, **dropdown) -> dbc.Row:
    """A period page's pickers: the initiative and ``{page}-period``, side by side."""
    return pickers(
        initiative_picker(page, entry, md=6),
        picker(
            gettext("Period"),
            f"{page}-period",
            list(entry.period_options),
            entry.period,
            md=6,
            **dropdown,
        ),
    )


def frame(page: str, heading: str | Component, intro, *body: Component | None) -> html.Div:
    """The page: its heading (a title, or a component holding it), an introduction, the
    body, and the store that keeps the address bar in step with the pickers."""
    if isinstance(heading, str):
        heading = html.H1(heading, className="h3 mb-1")
    return html.Div(
        [
            heading,
            html.P(intro, className="text-muted"),
            *body,
            dcc.Store(id=f"{page}-url-sync"),
        ],
        className="mb-5",
    )
