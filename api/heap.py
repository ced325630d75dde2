"""The serving process's heap and the cycle collector.

By the time a worker serves, it holds some 400,000 objects (modules, the app, the dashboard's
layouts and callbacks) that live as long as it does. Left to the cycle collector, each full
pass walked all of them while holding the interpreter lock: measured under ``make load``,
100-500 ms in which none of the worker's requests moved, every few seconds. So what exists at
startup is frozen (never walked again), and a full pass waits for a thousand passes of the
middle generation instead of ten, since after the freeze the collector's own rule (a quarter
of the survivors new since the last full pass) would otherwise run one every few seconds.
Cyclic garbage is still collected: young objects as before, the long-lived ones on the rarer
full passes (README, "Under load").
"""

from __future__ import annotations

import gc

# The collector's thresholds for generations 0 and 1 as CPython sets them; full passes rarer.
THRESHOLDS = (700, 10, 1000)


def settle() -> None:
    """Collect what startup left, freeze the rest, make full passes rare."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
