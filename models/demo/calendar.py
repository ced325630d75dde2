"""The demo's calendar: every date of the demo counted from the day it is built.

A demo with fixed dates dies with the calendar: once its open quarter has closed, a reporter
finds nothing to report in. So the demo is laid out around ``today``: the quarter containing it
is open for reporting, the quarter before is under review, three years of history end there, and
the targets reach two years past today's quarter. Nothing here reads the clock: ``today`` is
given (``load_demo`` defaults it to the real date), so the same seed and day give the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from models.demo.spec import ALL_QUARTERS, HISTORY_QUARTERS, REVIEW_STEP

# Reporting windows of the demo's quarters: open from the quarter's first day (partners may
# enter figures as the quarter goes), due a month after it ends, closed when the next quarter
# ends, so a late or returned report can still be put right while the next quarter runs.
DUE_AFTER = timedelta(days=30)
# The latest moment of the under-review quarter's natural calendar (a late report approved), in
# days after its due date: see ``DemoCalendar.fit``.
REVIEW_SPAN = timedelta(days=21)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1 … 4

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def shift(self, quarters: int) -> Quarter:
        index = self.year * 4 + self.number - 1 + quarters
        return Quarter(index // 4, index % 4 + 1)

    @property
    def key(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def starts_on(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def ends_on(self) -> date:
        return self.shift(1).starts_on - timedelta(days=1)


@dataclass(frozen=True)
class Window:
    opens_on: date
    due_on: date
    closes_on: date


class DemoCalendar:
    """The demo's quarters (step 0 is the baseline) and its moments, relative to ``today``."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.current = Quarter.of(today)  # step HISTORY_QUARTERS: open for reporting
        self.first = self.current.shift(-HISTORY_QUARTERS)  # step 0: the baseline
        self.quarters = [self.first.shift(step) for step in range(ALL_QUARTERS)]
        # The backbone team set the initiative up a quarter before the first reports.
        self.launch = self.first.shift(-1).starts_on
        self.epoch = datetime.combine(self.launch, time(15), UTC)  # created_at of set-up rows
        # Nothing in the demo happens later than this: the evening before today, in UTC.
        self.now = datetime.combine(today, time(0), UTC) - timedelta(hours=2)

    def window(self, step: int) -> Window:
        quarter = self.quarters[step]
        return Window(
            opens_on=quarter.starts_on,
            due_on=quarter.ends_on + DUE_AFTER,
            closes_on=quarter.shift(1).ends_on,
        )

    def fit(self, step: int, moment: datetime) -> datetime:
        """Fit the under-review quarter's reporting into the time there has been.

        Its reports are dated naturally (drafted after the quarter ends, submitted around the
        due date, approved days later); early in today's quarter those dates lie ahead, yet the
        quarter must show every status today. So its calendar is squeezed, order kept, into the
        days before ``now``: built on a quarter's first day, its reports went in during its last
        three weeks. Other quarters' moments are long past and stay as they are.
        """
        if step != REVIEW_STEP:
            return moment
        quarter = self.quarters[step]
        natural_start = datetime.combine(quarter.ends_on + timedelta(days=1), time(0), UTC)
        natural_end = datetime.combine(self.window(step).due_on + REVIEW_SPAN, time(0), UTC)
        if self.now >= natural_end:
            return moment
        start = min(natural_start, self.now - REVIEW_SPAN)
        share = (moment - natural_start) / (natural_end - natural_start)
        fitted = start + (self.now - start) * share
        return fitted.replace(second=0, microsecond=0)


def built_for(first_key: str) -> str:
    """The quarter a demo was built for, from the key of its first (baseline) quarter."""
    year, number = first_key.split("Q")
    return Quarter(int(year), int(number)).shift(HISTORY_QUARTERS).key


def quarter_of(day: date) -> str:
    return Quarter.of(day).key
