"""Percentiles and per-second series of a load run: pure functions, no I/O."""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (the value at or below which `fraction` of the samples lie).

    Nearest-rank rather than interpolation: a reported p99 is always a latency that
    really happened, never a blend of two."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction {fraction} is outside [0, 1]")
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """p50/p95/p99/max/mean in milliseconds, and the sample count."""
    ordered = sorted(seconds)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "count": len(ordered),
        "p50Ms": ms(percentile(ordered, 0.50)),
        "p95Ms": ms(percentile(ordered, 0.95)),
        "p99Ms": ms(percentile(ordered, 0.99)),
        "maxMs": ms(ordered[-1] if ordered else None),
        "meanMs": ms(sum(ordered) / len(ordered) if ordered else None),
    }


def per_second(times: Iterable[float], *, start: float, seconds: int) -> list[int]:
    """How many of `times` (monotonic clock) fall in each whole second after `start`."""
    counts = [0] * max(seconds, 0)
    for moment in times:
        slot = int(moment - start)
        if 0 <= slot < len(counts):
            counts[slot] += 1
    return counts


def latency_per_second(samples: Iterable[tuple[float, float]], *, start: float, seconds: int, fraction: float) -> list[float | None]:
    """The `fraction` percentile (ms) of the latencies of orders finished in each second, None where none finished."""
    slots: list[list[float]] = [[] for _ in range(max(seconds, 0))]
    for finished_at, latency in samples:
        slot = int(finished_at - start)
        if 0 <= slot < len(slots):
            slots[slot].append(latency)
    return [None if not slot else round(percentile(slot, fraction) * 1000, 2) for slot in slots]


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else 0.0
