"""The palette's contrast, computed without a browser (WCAG 2.2 1.4.3 and 1.4.11, issue #17).

The pairs are the ones the pages draw: text and links on white, white text on the solid
buttons, badges and alerts, the focus ring, the menu, and the chart marks on the white plot.
Colours are read from the stylesheet (dashboard/assets/05-palette.css) and the figure module,
so a change that fails is caught here. Chart colours must also stay apart for colour-blind
readers (simulated protanopia, deuteranopia, tritanopia).
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest

from dashboard import figures

ASSETS = Path(__file__).resolve().parents[2] / "dashboard" / "assets"
WHITE = "#ffffff"
NAVBAR = "#2c3e50"  # Flatly's primary: the menu bar and primary buttons
LIGHT = "#ecf0f1"  # Flatly's light: light badges and alerts
STRIPE = "#f2f2f2"  # a striped table's odd row (Bootstrap's 5 % black over white)


def _channel(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(colour: str) -> tuple[float, float, float]:
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def luminance(colour: str) -> float:
    """WCAG 2.2's relative luminance of an sRGB colour."""
    r, g, b = (_channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2.2's contrast ratio, (L1 + 0.05) / (L2 + 0.05) with L1 the lighter."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _rules() -> dict[str, dict[str, str]]:
    """The palette stylesheet's rules: selector → property → value (comments dropped)."""
    css = re.sub(r"/\*.*?\*/", "", (ASSETS / "05-palette.css").read_text(), flags=re.DOTALL)
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        props = {
            k.strip(): v.strip().removesuffix("!important").strip()
            for k, v in (d.split(":", 1) for d in body.split(";") if ":" in d)
        }
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(props)
    return rules


RULES = _rules()
ROOT = RULES[":root"]
TONES = ("success", "info", "warning", "danger", "secondary", "dark")


def test_the_formula_agrees_with_wcag_examples() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # a known near-miss
    assert contrast("#18bc9c", "#ffffff") < 3  # Flatly's teal, the colour this file replaced


def _pairs() -> list[tuple[str, str, str, float]]:
    """(what, foreground, background, minimum) for every pair the pages draw."""
    pairs = []
    for tone in TONES:
        solid = ROOT[f"--bs-{tone}"]
        pairs.append((f"{tone} text/outline button on white", solid, WHITE, 4.5))
        pairs.append((f"white on {tone} button/badge/alert", WHITE, solid, 4.5))
        button = RULES[f".btn-{tone}"]
        pairs.append((f"white on {tone} button", WHITE, button["--bs-btn-bg"], 4.5))
        pairs.append((f"white on hovered {tone} button", WHITE, button["--bs-btn-hover-bg"], 4.5))
        outline = RULES[f".btn-outline-{tone}"]
        pairs.append((f"{tone} outline button text", outline["--bs-btn-color"], WHITE, 4.5))
        pairs.append((f"{tone} outline button border", outline["--bs-btn-border-color"], WHITE, 3))
        if f".alert-{tone}" in RULES:
            bg = RULES[f".alert-{tone}"]["background-color"]
            pairs.append((f"white on {tone} alert", WHITE, bg, 4.5))
    for what, colour in (
        ("link", ROOT["--bs-link-color"]),
        ("hovered link", ROOT["--bs-link-hover-color"]),
        ("code", ROOT["--bs-code-color"]),
        ("muted text", RULES[".text-muted"]["color"]),
        ("active tab", RULES[".nav-tabs"]["--bs-nav-tabs-link-active-color"]),
    ):
        pairs.append((f"{what} on white", colour, WHITE, 4.5))
        pairs.append((f"{what} on a striped row", colour, STRIPE, 4.5))
    pairs.append(("white on the menu bar", WHITE, NAVBAR, 4.5))
    pairs.append(("light badge text", RULES[".badge.bg-light"]["color"], LIGHT, 4.5))
    ring = re.search(r"#[0-9a-fA-F]{6}", RULES[":focus-visible"]["outline"]).group(0)
    pairs.append(("focus ring on white", ring, WHITE, 3))
    pairs.append(
        ("focus ring in the menu", RULES[".navbar :focus-visible"]["outline-color"], NAVBAR, 3)
    )
    return pairs


@pytest.mark.parametrize(("what", "fg", "bg", "minimum"), _pairs(), ids=lambda v: str(v))
def test_palette_pair_meets_its_minimum(what: str, fg: str, bg: str, minimum: float) -> None:
    assert contrast(fg, bg) >= minimum, f"{what}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"


def _marks() -> list[tuple[str, str]]:
    """Every colour a chart draws a mark with (lines, bars, markers, small text)."""
    marks = [(f"OKABE_ITO[{i}]", c) for i, c in enumerate(figures.OKABE_ITO)]
    marks += [(f"STATUS_COLOURS[{k}]", c) for k, c in figures.STATUS_COLOURS.items()]
    return marks


@pytest.mark.parametrize(("what", "colour"), _marks())
def test_chart_marks_stand_out_from_the_plot(what: str, colour: str) -> None:
    """Non-text contrast (1.4.11): 3:1 against the white plot."""
    assert contrast(colour, WHITE) >= 3, f"{what} {colour}: {contrast(colour, WHITE):.2f}:1"


def test_chart_text_is_readable() -> None:
    assert contrast(figures.TEXT_VERMILLION, WHITE) >= 4.5


def test_heatmap_symbols_read_on_every_fill() -> None:
    """The heat map's black symbols on each state's fill (the fill itself carries no meaning
    the symbol does not)."""
    for colour in figures.STATE_COLOURS:
        assert contrast("#000000", colour) >= 4.5, colour
    assert set(figures.STATE_SYMBOLS) == set(figures.STATE_ORDER)
    assert len(set(figures.STATE_SYMBOLS.values())) == len(figures.STATE_ORDER)


# Machado, Oliveira & Fernandes (2009), full severity, on linear RGB.
SIMULATIONS = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}


def _lab(linear: tuple[float, float, float]) -> tuple[float, float, float]:
    r, g, b = (min(max(c, 0.0), 1.0) for c in linear)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def _seen(colour: str, vision: str | None) -> tuple[float, float, float]:
    linear = tuple(_channel(c) for c in _rgb(colour))
    if vision is None:
        return _lab(linear)  # type: ignore[arg-type]
    m = SIMULATIONS[vision]
    return _lab(tuple(sum(m[i][j] * linear[j] for j in range(3)) for i in range(3)))  # type: ignore[arg-type]


@pytest.mark.parametrize("vision", [None, *SIMULATIONS])
def test_series_colours_stay_apart_for_colour_blind_readers(vision: str | None) -> None:
    """Lines drawn side by side differ by at least ΔE*ab 10 as each reader sees them."""
    for a, b in itertools.combinations(figures.SERIES, 2):
        distance = math.dist(_seen(a, vision), _seen(b, vision))
        assert distance >= 10, f"{a} and {b} under {vision or 'normal vision'}: ΔE {distance:.1f}"


def test_series_differ_beyond_colour() -> None:
    assert len(set(figures.SERIES_DASHES)) == len(figures.SERIES)
    assert len(set(figures.SERIES_SYMBOLS)) == len(figures.SERIES)
