"""Ratios of one completion to the cheapest things the same stack does, measured side by side."""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

from tests.bench_cycle import Cycle
from tests.bench_stats import line, ratio, repeat, timed
from tests.conftest import World

TRIVIAL_PATH = "/instances/no-such-instance"  # authenticated, one indexed lookup, a tiny 404 answer


def trivial_get(world: World, count: int) -> list[float]:
    api = world.api("officer")

    def get() -> None:
        assert api.get(TRIVIAL_PATH).status_code == 404, "the trivial GET answered unexpectedly"

    return repeat(get, count)


def completions(cycle: Cycle, count: int, engine: bool = False) -> list[float]:
    """`count` completions, each timed alone (preparing its data is not part of it)."""
    times = []
    for _ in range(count + 1):
        user, task_id, data = cycle.next_task()
        act = cycle.complete_engine if engine else cycle.complete_http
        times.append(timed(partial(act, user, task_id, data)))
    return times[1:]  # the first pays for cold caches


def raw_commits(db_file: Path, count: int) -> list[float]:
    """A durable one-row commit on the same file, with the app's settings (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(db_file, isolation_level=None)
    try:
        conn.execute("pragma journal_mode=wal")
        conn.execute("pragma synchronous=full")
        conn.execute("create table if not exists bench_raw (n integer)")

        def commit() -> None:
            conn.execute("begin immediate")
            conn.execute("insert into bench_raw (n) values (1)")
            conn.execute("commit")

        return repeat(commit, count)
    finally:
        conn.execute("drop table if exists bench_raw")
        conn.close()


def run(world: World, cycle: Cycle, count: int, sqlite_file: Path | None) -> dict[str, Any]:
    print(f"  timing {count} trivial GETs and {count} HTTP completions…", flush=True)
    trivial = trivial_get(world, count)
    http = completions(cycle, count)
    results: dict[str, Any] = {"http_completion_per_trivial_get": ratio(http, trivial, goal=2.0)}
    print(line("HTTP completion ÷ trivial authenticated GET", results["http_completion_per_trivial_get"]))
    if sqlite_file is not None:
        engine = completions(cycle, count, engine=True)
        raw = raw_commits(sqlite_file, count)
        results["engine_completion_per_raw_commit"] = ratio(engine, raw, goal=10.0)
        print(line("engine completion ÷ raw durable SQLite commit", results["engine_completion_per_raw_commit"]))
        results["_raw"] = raw
    results["_trivial"], results["_http"] = trivial, http
    return results
