"""The automatic sync's retry policy: exponential, jittered, capped, never stopping."""

from __future__ import annotations

import random

import pytest

from fieldrep.sync.schedule import SyncTiming, retry_delay

TIMING = SyncTiming(retry_first=30.0, retry_cap=600.0)


@pytest.mark.parametrize(
    ("failures", "nominal"),
    [(1, 30.0), (2, 60.0), (3, 120.0), (4, 240.0), (5, 480.0), (6, 600.0), (50, 600.0)],
)
def test_the_wait_doubles_up_to_the_cap(failures: int, nominal: float) -> None:
    assert retry_delay(failures, TIMING, rng=lambda: 0.0) == nominal / 2
    assert retry_delay(failures, TIMING, rng=lambda: 1.0) == nominal


def test_there_is_no_hard_stop() -> None:
    # A laptop offline for a week still gets a retry every few minutes.
    assert retry_delay(10_000, TIMING, rng=lambda: 0.5) == 450.0


def test_the_jitter_spreads_retries_within_bounds() -> None:
    rng = random.Random(4)
    delays = [retry_delay(3, TIMING, rng=rng.random) for _ in range(500)]
    assert all(60.0 <= delay <= 120.0 for delay in delays)
    assert max(delays) - min(delays) > 50.0, "spread over the range, not one value"


def test_no_failure_is_no_retry() -> None:
    with pytest.raises(ValueError):
        retry_delay(0, TIMING)
