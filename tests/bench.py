"""`make bench`: figures, not assertions — each a ratio to something cheap measured in the same run.

KHANTON_BENCH_SCALE (default 1) scales the data (100,000 instances at 1), the loop depths and the
durations; 0.01 is a quick look. KHANTON_BENCH_OUT names the folder for performance.json and
performance.png (default docs/). Sections on PostgreSQL run when it is reachable, else say why not.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests import bench_floor, bench_loops, bench_round_trip, bench_scale, bench_throughput
from tests.bench_chart import draw
from tests.bench_cycle import Cycle
from tests.conftest import POSTGRES_ADMIN_URL, ROOT, World, _fresh_postgres, _postgres_available


def _section(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def bench_database(label: str, url: str, sqlite_file: Path | None, scale: float) -> dict[str, Any]:
    samples = max(int(40 * min(scale, 1.0)), 5)
    results: dict[str, Any] = {}
    world = World(url)
    try:
        _section(f"[{label}] round trip")
        cycle = Cycle(world)
        round_trip = bench_round_trip.run(world, cycle, samples, sqlite_file)
        completion_at_0 = round_trip.pop("_http")
        trivial, raw = round_trip.pop("_trivial"), round_trip.pop("_raw", None)
        results["round_trip"] = round_trip
        _section(f"[{label}] the floor: SpiffWorkflow's own step")
        results["floor"] = bench_floor.run(cycle, samples, trivial, raw)
        results["floor"].pop("_steps")
        _section(f"[{label}] return-for-revision loops")
        results["loops"] = bench_loops.run(world, scale, samples, sqlite=sqlite_file is not None)
        _section(f"[{label}] throughput on a real HTTP server, loopback")
        results["throughput"] = bench_throughput.run(world, max(5.0 * min(scale, 1.0), 0.3))
        if sqlite_file is None:
            _section(f"[{label}] throughput with {bench_throughput.WORKERS} gunicorn processes")
            results["throughput_workers"] = bench_throughput.run_workers(world, url, max(5.0 * min(scale, 1.0), 0.3))
        _section(f"[{label}] lists and pages at scale")
        results["scale"] = bench_scale.run(world, cycle, scale, samples, completion_at_0)
    finally:
        world.close()
    return results


def main() -> None:
    scale = float(os.environ.get("KHANTON_BENCH_SCALE", "1"))
    out = Path(os.environ.get("KHANTON_BENCH_OUT", ROOT / "docs"))
    began = time.perf_counter()
    results: dict[str, Any] = {"scale": scale, "date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
                               "databases": {}, "skipped": {}}
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "bench.db"
        results["databases"]["sqlite"] = bench_database("sqlite", f"sqlite:///{db_file}", db_file, scale)
    reason = _postgres_available()
    if reason:
        print(f"\n[postgresql] skipped: {reason}")
        results["skipped"]["postgresql"] = reason
    else:
        url, drop = _fresh_postgres(POSTGRES_ADMIN_URL)
        try:
            results["databases"]["postgresql"] = bench_database("postgresql", url, None, scale)
        finally:
            drop()
    results["seconds"] = time.perf_counter() - began
    out.mkdir(parents=True, exist_ok=True)
    (out / "performance.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    draw(results, out / "performance.png")
    print(f"\nwrote {out / 'performance.json'} and {out / 'performance.png'} in {results['seconds']:.0f} s")


if __name__ == "__main__":
    main()
