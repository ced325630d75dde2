"""What a viewer is given of a figure and of a figure group (an indicator in a period).

Shared by the disclosure decision (``models.analytics.disclosure``) and the computed
indicators it derives from their inputs' (``models.analytics.computed``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """A number as the viewer may see it: exact, or hidden/coarsened with a marker."""

    value: float | None
    n: float | None
    marker: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class GroupView:
    """One indicator in one period as an audience may see it."""

    total: Figure
    cells: dict[str, Figure]  # "race=black" → figure, for every category with data
    partners: dict[int, Figure]  # member id → figure, for members the audience may see
    contributors: int | None  # partners in the total; None where the count would name one
