"""wrk results of alternating rounds combine into one per endpoint."""

from __future__ import annotations

import pytest

from bench.wrk import Result, combine


def _result(requests: int, seconds: float, p99_ms: float, errors: int = 0) -> Result:
    return Result(
        requests=requests, seconds=seconds, p50_ms=p99_ms / 4, p95_ms=p99_ms / 2, p99_ms=p99_ms,
        max_ms=p99_ms * 2, errors=errors,
    )  # fmt: skip


def test_counts_and_time_add_up_and_each_percentile_is_the_slowest_rounds():
    combined = combine([_result(1_000, 5.0, 8.0), _result(3_000, 5.0, 4.0, errors=2)])

    assert combined.requests == 4_000
    assert combined.seconds == 10.0
    assert combined.rps == 400.0  # over the whole time, not the mean of the rounds' rates
    assert (combined.p50_ms, combined.p95_ms, combined.p99_ms, combined.max_ms) == (2.0, 4.0, 8.0, 16.0)
    assert combined.errors == 2


def test_nothing_to_combine_is_an_error():
    with pytest.raises(ValueError, match="nothing to combine"):
        combine([])
