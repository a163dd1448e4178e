"""Timings and ratios for `make bench`: medians with min, max and count, never a single number."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def timed(action: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def repeat(action: Callable[[], object], count: int) -> list[float]:
    action()  # warm-up: first calls fill caches and the page cache, and are not what we measure
    return [timed(action) for _ in range(max(count, 1))]


def summary(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "count": len(values)}


def ratio(measured: list[float], baseline: list[float], goal: float | None = None) -> dict[str, Any]:
    """`measured` ÷ `baseline`, both taken in this run: the median of the ratios of each sample to the
    baseline's median, so that min/max show the spread of what was measured, not of the baseline."""
    base = statistics.median(baseline)
    ratios = [value / base for value in measured]
    result = summary(ratios) | {"measured_ms": summary(measured), "baseline_ms": summary(baseline)}
    if goal is not None:
        result["goal"] = goal
        result["meets_goal"] = result["median"] <= goal
    return result


def line(name: str, result: dict[str, Any]) -> str:
    """One printed line: `name  2.31× (min 2.0, max 3.1, n=40)  goal ≤ 2.0: no`."""
    text = (f"  {name:<46} {result['median']:7.2f}× (min {result['min']:.2f}, max {result['max']:.2f}, "
            f"n={result['count']})")
    if "goal" in result:
        text += f"  goal ≤ {result['goal']}: {'yes' if result['meets_goal'] else 'NO'}"
    return text


def ms_line(name: str, values: list[float]) -> str:
    s = summary(values)
    return f"  {name:<46} {s['median']:7.2f} ms (min {s['min']:.2f}, max {s['max']:.2f}, n={s['count']})"
