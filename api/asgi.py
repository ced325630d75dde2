"""The ASGI entry point for uvicorn (and its workers): ``uvicorn api.asgi:app``."""

from api.app import create_app

app = create_app()
