"""Call activities between processes: the loops among them, which would start sub-processes without end."""

from __future__ import annotations

from collections.abc import Callable

CallsOf = Callable[[str], list[str]]


def paths_from(start: str, calls_of: CallsOf) -> dict[str, list[str]]:
    """Every process reachable by call activities from `start`, each with one way there (start first);
    `start` itself is in the answer only if a loop leads back to it."""
    way: dict[str, list[str]] = {}
    pending = [[start]]
    while pending:
        path = pending.pop(0)
        for following in calls_of(path[-1]):
            if following not in way:
                way[following] = [*path, following]
                pending.append(way[following])
    return way


def loop_through(caller: str, called: str, calls_of: CallsOf) -> list[str] | None:
    """The way round, if calling `called` from `caller` leads back to `caller` or into any loop."""
    downstream = {called: [called]}  # nearest first, so the loop named is the first met
    downstream.update((key, way) for key, way in paths_from(called, calls_of).items() if key != called)
    if caller in downstream:
        return [caller, *downstream[caller]]
    for key in downstream:
        around = paths_from(key, calls_of)
        if key in around:
            return around[key]
    return None
