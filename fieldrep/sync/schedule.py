"""When the app syncs by itself: the timing policy, pure and tested (no Qt, no clock).

The GUI's timers (fieldrep.ui.auto_sync) ask this module how long to wait. After
a failed attempt the wait grows exponentially with the number of failures in a
row, up to a cap, and never stops (SYNC.md: "retry with exponential backoff and
jitter, no hard stop"). Jitter spreads the retries of many laptops that lost the
same server at the same moment, so they do not all come back in one burst.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SyncTiming:
    """The delays of automatic sync, in seconds."""

    after_edit: float = 30.0  # a quiet spell after the last local change
    periodic: float = 300.0  # while online and nothing else asks for a sync
    soon: float = 2.0  # network back, signed in, switched on: let the link settle first
    retry_first: float = 30.0  # the first retry after a failure
    retry_cap: float = 600.0  # retries never wait longer than this


def retry_delay(
    failures: int, timing: SyncTiming = SyncTiming(), rng: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after ``failures`` failed attempts in a row (1 or more).

    The nominal wait doubles with each failure from ``retry_first`` up to
    ``retry_cap``; the wait taken is uniform between half the nominal wait and
    all of it ("equal jitter"), so it never collapses to zero and never passes
    the cap.
    """
    if failures < 1:
        raise ValueError("retry_delay needs at least one failure")
    # 2 ** 30 is far past any cap; a bigger exponent would only overflow.
    nominal = min(timing.retry_cap, timing.retry_first * 2.0 ** min(failures - 1, 30))
    return nominal / 2 + rng() * nominal / 2
