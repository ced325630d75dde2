"""axe-core in the browser tests: the WCAG 2.2 AA rules run on the page the driver shows.

axe-core is vendored (tests/browser/vendor/, see its README): a pinned file, no network at
test time. A failing run reads as a list of violations, each with its rule, impact, the
selectors of the elements that break it and a snippet of their HTML.
"""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.support.ui import WebDriverWait

from . import support as ui

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WCAG_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary}))
  }))))
  .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""

# The page is settled when Dash shows no loading state and the document has not changed for
# QUIET_MS (Dash draws a page in several callbacks; Plotly and the grid draw after them).
QUIET_MS = 300
_QUIET = """
const busy = document.querySelector('[data-dash-is-loading="true"], ._dash-loading');
const size = document.body.innerHTML.length, now = performance.now();
if (window.__cmSize !== size) { window.__cmSize = size; window.__cmSince = now; }
return !busy && document.readyState === 'complete' && now - window.__cmSince >= arguments[0];
"""


def settled(driver, timeout: float = ui.WAIT) -> None:
    """Wait until Dash has finished rendering: no loading state, the DOM still for a while."""
    driver.execute_script("window.__cmSize = -1;")
    WebDriverWait(driver, timeout, poll_frequency=0.1).until(
        lambda d: d.execute_script(_QUIET, QUIET_MS)
    )


def violations(driver, tags: tuple[str, ...] = WCAG_AA) -> list[dict]:
    """axe's violations of ``tags`` on the current page (axe injected on first use)."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    return driver.execute_async_script(_RUN, list(tags))


def report(where: str, found: list[dict]) -> str:
    """The violations, readable: rule, impact, help; then each element's selector and HTML."""
    lines = [f"{where}: {len(found)} axe violation(s)"]
    for v in found:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:8]:
            target = " ".join(" >> ".join(t) if isinstance(t, list) else t for t in node["target"])
            lines.append(f"    at {target}")
            lines.append(f"       {node['html'][:200]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)
