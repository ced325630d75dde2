"""Dash application factory: a multi-page app on its own FastAPI server."""

from __future__ import annotations

from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash, html
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from dashboard import data

HERE = Path(__file__).resolve().parent


def create_dash(session_factory: sessionmaker[Session]) -> Dash:
    data.configure(session_factory)
    app = Dash(
        __name__,
        server=FastAPI(docs_url=None, redoc_url=None, openapi_url=None),
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title="Common Measure",
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = _shell
    _serve_index_for_page_urls(app)
    return app


def _serve_index_for_page_urls(app: Dash) -> None:
    """Answer any other GET with the Dash index, so a bookmarked page URL loads the app.

    Dash registers this catch-all on its server's startup event, but a mounted sub-app never
    receives lifespan events, so it is registered here, right after Dash's own routes.
    """
    app.backend._setup_catchall()


def _shell():
    navbar = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("Common Measure", href="/"),
                dbc.Nav([dbc.NavLink("Initiatives", href="/", active="exact")], navbar=True),
                html.A("API docs", href="/api/docs", className="text-light small"),
            ]
        ),
        color="primary",
        dark=True,
        className="mb-4",
    )
    return html.Div([navbar, dbc.Container(dash.page_container, fluid="lg")])
