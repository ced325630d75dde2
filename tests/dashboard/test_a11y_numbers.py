"""The charts' accessible tables write numbers as the charts and sentences do (README,
"Languages"): in Spanish ``1.234`` with its group separator, like ``format_number``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from models.core import i18n

A11Y = Path(__file__).resolve().parents[2] / "dashboard" / "assets" / "40-a11y.js"
NODE = shutil.which("node")


def _shown(language: str, numbers: list[float]) -> list[str]:
    """The asset's ``shown`` run by Node with the page's ``lang`` set to ``language``."""
    source = A11Y.read_text(encoding="utf-8")
    found = re.search(r"function shown\(v\) \{.*?\n    \}\n", source, re.DOTALL)
    assert found, "shown() not found in 40-a11y.js"
    script = (
        f"var document = {{documentElement: {{lang: {json.dumps(language)}}}}};\n"
        f"{found.group(0)}\n"
        f"console.log(JSON.stringify({json.dumps(numbers)}.map(shown)));"
    )
    run = subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


@pytest.mark.skipif(
    NODE is None and not os.environ.get("CI"), reason="needs Node to run the asset's JavaScript"
)
@pytest.mark.parametrize("language", ["en", "es"])
def test_accessible_table_groups_thousands_like_the_sentences(language) -> None:
    numbers = [1234.0, 1730.0, 12345.5, 68.4, -1234.5]
    with i18n.use_locale(language):
        expected = [i18n.format_number(n, max_digits=1) for n in numbers]
    assert _shown(language, numbers) == expected
