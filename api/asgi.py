"""The ASGI entry point for uvicorn (and its workers): ``uvicorn api.asgi:app``."""

from api import heap
from api.app import create_app
from api.observability import configure_logging
from models.core.settings import get_settings

settings = get_settings()
configure_logging(settings.log_level)
# Each serving process runs the notifications' delivery worker unless CM_WORKER=external (then
# `cm worker` does); on PostgreSQL several share the outbox (README, "Notifications").
app = create_app(run_worker=settings.worker == "app")
# What startup made lives as long as the worker: out of the cycle collector's walks.
heap.settle()
