"""The reporting cycle's words as people read them, in the request's language: a report's
status and what can be done to it (README, "Languages"). The API's fields keep the codes
(``draft``, ``submit``); these are for messages and pages."""

from __future__ import annotations

from models.core.i18n import pgettext


def status_name(status: str) -> str:
    """``draft`` → "draft" / "borrador"; an unknown code is shown as it is."""
    names = {
        "not_started": pgettext("status", "not started"),
        "draft": pgettext("status", "draft"),
        "submitted": pgettext("status", "submitted"),
        "approved": pgettext("status", "approved"),
        "returned": pgettext("status", "returned"),
    }
    return names.get(status, status.replace("_", " "))


def measure_type_name(measure_type: str) -> str:
    """A measure type as people read it (``rate`` → "rate" / "tasa"); files and the API keep
    the code."""
    names = {
        "count": pgettext("measure type", "count"),
        "amount": pgettext("measure type", "amount"),
        "rate": pgettext("measure type", "rate"),
        "average": pgettext("measure type", "average"),
    }
    return names.get(measure_type, measure_type)


def action_name(action: str) -> str:
    """The verb of a move (``submit`` → "submit" / "enviar")."""
    names = {
        "submit": pgettext("action", "submit"),
        "approve": pgettext("action", "approve"),
        "return": pgettext("action", "return"),
        "reopen": pgettext("action", "reopen"),
    }
    return names.get(action, action)
