"""The trust battery's figures (#13): what the hostile, faulty and concurrent tests tried.

Tests call `add("cases tried", n)` and friends; `make test` prints the totals at the end of the run
(tests/conftest.py: pytest_terminal_summary). Counts from child processes are not seen: a test adds
what its own process observed. `lost` must be called by every test that checks acknowledged writes,
even when none were lost, so that the printed 0 means "checked and none lost", not "never checked".
"""

from __future__ import annotations

from collections import Counter

CASES = "cases tried"
REFUSED = "refused"
FAULTS = "faults injected"
INSTANCES = "instances checked"
LOST = "acknowledged writes lost"
ORDER = (CASES, REFUSED, FAULTS, INSTANCES, LOST)

_figures: Counter[str] = Counter()
_checked_lost = False


def add(figure: str, count: int = 1) -> None:
    _figures[figure] += count


def lost(count: int) -> None:
    """Record a check of acknowledged writes and how many were missing (the test asserts 0 itself)."""
    global _checked_lost
    _checked_lost = True
    _figures[LOST] += count


def summary() -> str | None:
    """One line for the end of the run, or None when no battery test ran."""
    if not _figures and not _checked_lost:
        return None
    names = [name for name in ORDER if name in _figures or (name == LOST and _checked_lost)]
    names += sorted(name for name in _figures if name not in ORDER)
    return "trust battery: " + ", ".join(f"{name} {_figures[name]:,}" for name in names)
