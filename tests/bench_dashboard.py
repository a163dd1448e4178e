"""The supervisor's dashboard at scale (part of "lists and pages at scale", run after the rest of it):
each generated instance gets two finished rounds of known lengths (the generated data has only ready
ones), then /monitor/dashboard for the procedure and year that hold all 100,000 instances is timed ÷ a
trivial GET — as a supervisor gets it within the minute the figures are kept, and computed afresh."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from engine.models import HumanTask, Instance
from engine.read import dashboard
from tests.bench_stats import line, ratio, timed
from tests.conftest import World
from tests.web.conftest import Page

CHUNK = 5_000
FINISHED = (("bench_study", "plan_officer", "officer"), ("bench_approve", "esa_director", "director"))


def add_history(world: World) -> int:
    """Two completed rounds per running budget transfer, lasting 1 to 97 hours."""
    with world.khanton.db.transaction(read_only=True) as session:
        rows = session.execute(select(Instance.id, Instance.started_at)
                               .where(Instance.process_key == "budget-transfer")).all()
    written = 0
    for begin in range(0, len(rows), CHUNK):
        batch = []
        for n, (instance_id, started) in enumerate(rows[begin:begin + CHUNK], start=begin):
            ready = started
            for k, (spec, lane, who) in enumerate(FINISHED):
                hours = 1 + (n * (k + 3)) % 97
                batch.append({"id": str(uuid.uuid4()), "instance_id": instance_id, "spiff_task_id": str(uuid.uuid4()),
                              "task_spec": spec, "name": spec, "lane": lane, "form": None, "status": "completed",
                              "assignee": None, "due_at": None, "created_at": ready, "school": None,
                              "completed_at": ready + timedelta(hours=hours), "completed_by": who})
                ready += timedelta(hours=hours)
        with world.khanton.db.transaction() as session:
            session.execute(insert(HumanTask), batch)
        written += len(batch)
    return written


def _side_by_side(read: Callable[[], object], baseline: Callable[[], object],
                  samples: int) -> tuple[list[float], list[float]]:
    read(), baseline()  # warm-up (and, for the kept figures, their first computation)
    measured, base = [], []
    for _ in range(max(samples, 1)):
        measured.append(timed(read))
        base.append(timed(baseline))
    return measured, base


def run(world: World, samples: int, trivial_get: Callable[[], None]) -> dict[str, Any]:
    began = time.perf_counter()
    rounds = add_history(world)
    print(f"  added {rounds:,} finished rounds for the dashboard ({time.perf_counter() - began:.0f} s)", flush=True)
    with world.khanton.db.transaction(read_only=True) as session:
        year = dashboard.years(session, "budget-transfer")[0]
    page = Page(world.app.test_client())
    page.sign_in("supervisor")
    path = f"/monitor/dashboard?process=budget-transfer&fiscal_year={year}"

    def read() -> None:
        response = page.get(path)
        assert response.status_code == 200, f"dashboard: {response.status_code}"

    results: dict[str, Any] = {}
    measured, trivial = _side_by_side(read, trivial_get, samples)
    results["dashboard_html_per_trivial_get"] = ratio(measured, trivial, goal=3.0)
    print(line("dashboard (figures kept) ÷ trivial get", results["dashboard_html_per_trivial_get"]), flush=True)
    world.app.config["DASHBOARD_CACHE_SECONDS"] = 0
    try:
        measured, trivial = _side_by_side(read, trivial_get, max(min(samples, 8), 3))
    finally:
        world.app.config.pop("DASHBOARD_CACHE_SECONDS")
    results["dashboard_fresh_html_per_trivial_get"] = ratio(measured, trivial)
    print(line("dashboard (computed afresh) ÷ trivial get", results["dashboard_fresh_html_per_trivial_get"]),
          flush=True)
    return results
