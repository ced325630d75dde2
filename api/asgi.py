"""The ASGI entry point for uvicorn (and its workers): ``uvicorn api.asgi:app``."""

from api.app import create_app
from api.observability import configure_logging
from models.core.settings import get_settings

configure_logging(get_settings().log_level)
app = create_app()
