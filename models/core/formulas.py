"""Spreadsheet formula neutralisation: the one function every CSV and Excel writer uses.

A text cell starting with ``= + - @``, tab or CR is run as a formula by Excel and LibreOffice
(CSV injection: ``=HYPERLINK("http://x","y")`` in an indicator's name becomes a live link in
whoever opens the file). Every file the application writes — exports, import templates, the
public data package, the dashboard's table downloads — passes its text cells through
:func:`neutralise`, which puts a single quote before such text so that it is shown, never run.
Numbers, negative ones too, are written as numbers and not touched. The importer drops that
quote again, so an exported note imports back unchanged. ``tests/core/test_formulas.py`` finds every
writer in the source tree and checks that it calls this function.
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str | None) -> str | None:
    """Text a spreadsheet will show, never run: ``=HYPERLINK(…)`` → ``'=HYPERLINK(…)``."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text
