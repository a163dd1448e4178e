"""The dashboard's figures for instances with known histories under a fixed clock, on SQLite and
PostgreSQL: counts by status, median and 90th percentile per step (a step done twice, a return for
revision, counts twice) and per lane (a round still waiting counts up to now), overdue work, work per
person and per school; instances of another year or procedure and cancelled rounds count nowhere."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import insert, select

from engine.models import HumanTask, Instance, ProcessVersion
from engine.read import dashboard
from tests.conftest import World

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _history(world: World) -> dict[str, str]:
    """Budget transfers of 2570 (and one of 2569, one other procedure) with rounds of known times."""
    with world.khanton.db.transaction() as session:
        versions = {k: v for k, v in session.execute(select(ProcessVersion.key, ProcessVersion.id))}
        ids = {name: str(uuid.uuid4()) for name in ("a", "b", "c", "old", "other")}
        instances = []
        for name, status, year, key in (("a", "running", 2570, "budget-transfer"),
                                        ("b", "completed", 2570, "budget-transfer"),
                                        ("c", "rejected", 2570, "budget-transfer"),
                                        ("old", "running", 2569, "budget-transfer"),
                                        ("other", "running", 2570, "budget-request")):
            instances.append({"id": ids[name], "process_key": key, "version_id": versions[key], "status": status,
                              "fiscal_year": year, "title": f"เรื่อง {name}", "state": {}, "data": {},
                              "revision": 1, "started_by": "officer", "started_at": T0, "updated_at": T0})
        session.execute(insert(Instance), instances)
        tasks: list[dict[str, Any]] = []

        def add(instance: str, spec: str, lane: str, ready: datetime, hours: float | None, by: str | None = None,
                status: str | None = None, **extra: Any) -> None:
            tasks.append({"id": str(uuid.uuid4()), "instance_id": ids[instance], "spiff_task_id": str(uuid.uuid4()),
                          "task_spec": spec, "name": spec, "lane": lane, "form": None,
                          "status": status or ("ready" if hours is None else "completed"), "assignee": None,
                          "due_at": None, "created_at": ready, "school": None,
                          "completed_at": ready + hours * H if hours is not None else None,
                          "completed_by": by if hours is not None else None} | extra)

        # The officer's study: 1 h, then returned for revision and done again in 3 h; 2 h; 10 h.
        add("a", "study", "plan_officer", T0, 1, "officer")
        add("a", "study", "plan_officer", T0 + 5 * H, 3, "officer")
        add("b", "study", "plan_officer", T0, 2, "officer")
        add("c", "study", "plan_officer", T0, 10, "head")
        add("b", "approve", "esa_director", T0 + 3 * H, 5, "director")
        # A school's round, done in 4 h; another school's still waiting, not yet due.
        add("b", "report", "school", T0, 4, "school", school="1063010001")
        add("a", "report", "school", NOW - 6 * H, None, school="1063010002", due_at=NOW + 24 * H)
        # Waiting 20 h at the officer's, held by them, due an hour ago: overdue.
        add("a", "study", "plan_officer", NOW - 20 * H, None, assignee="officer", due_at=NOW - H)
        # Counted nowhere: cancelled; another year; another procedure.
        add("a", "approve", "esa_director", T0, 500, "director", status="cancelled")
        add("old", "study", "plan_officer", T0, 100, "officer")
        add("other", "study", "plan_officer", T0, 200, "officer")
        session.execute(insert(HumanTask), tasks)
    return ids


def _cont(values: list[int], p: Fraction) -> float:
    """percentile_cont, by the book."""
    ordered = [Fraction(v) for v in sorted(values)]
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def test_percentile_matches_percentile_cont() -> None:
    for values in ([5], [1, 2], [1, 2, 3, 10], [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], list(range(1, 12))):
        ranked = {n: int(v) for n, v in enumerate(sorted(values))}
        for p in (dashboard.MEDIAN, dashboard.P90):
            assert dashboard.percentile(ranked, len(values), p) == _cont(values, p)


def test_figures_of_known_histories(any_world: World) -> None:
    ids = _history(any_world)
    with any_world.khanton.db.transaction(read_only=True) as session:
        board = dashboard.build(session, "budget-transfer", 2570, now=NOW)
        every_year = dashboard.build(session, "budget-transfer", None, now=NOW)
        years = dashboard.years(session, "budget-transfer")
    assert years == [2570, 2569]
    assert board.statuses == {"running": 1, "completed": 1, "rejected": 1}
    assert board.instances == 3
    steps = {s.key: s for s in board.steps}
    # study: 1, 3 (the second round after a return), 2, 10 hours -> median 2.5 h, p90 3 + 0.7 × 7 = 7.9 h
    assert (steps["study"].rounds, steps["study"].median, steps["study"].p90) == (4, 2.5 * 3600, 7.9 * 3600)
    assert (steps["approve"].rounds, steps["approve"].median, steps["approve"].p90) == (1, 5 * 3600, 5 * 3600)
    assert (steps["report"].rounds, steps["report"].median) == (1, 4 * 3600)
    assert [s.key for s in board.steps] == ["approve", "report", "study"]  # the slowest first
    lanes = {s.key: s for s in board.lanes}
    # plan_officer: 1, 3, 2, 10 done and 20 still waiting -> median 3 h, p90 10 + 0.6 × 10 = 16 h
    assert (lanes["plan_officer"].rounds, lanes["plan_officer"].median, lanes["plan_officer"].p90) == (
        5, 3 * 3600, 16 * 3600)
    # school: 4 h done, 6 h waiting so far -> median 5 h, p90 4 + 0.9 × 2 = 5.8 h
    assert (lanes["school"].rounds, lanes["school"].median, lanes["school"].p90) == (2, 5 * 3600, 5.8 * 3600)
    assert lanes["plan_officer"].name != "plan_officer"  # the lane's Thai name
    assert board.overdue_count == 1
    [late] = board.overdue
    assert (late.instance_id, late.step, late.holder, late.lane) == (ids["a"], "study", "officer", "plan_officer")
    people = {p.key: (p.done, p.waiting, p.overdue) for p in board.people}
    assert people == {"officer": (3, 1, 1), "head": (1, 0, 0), "director": (1, 0, 0), "school": (1, 0, 0)}
    schools = {s.key: (s.done, s.waiting, s.overdue) for s in board.schools}
    assert schools == {"1063010001": (1, 0, 0), "1063010002": (0, 1, 0)}
    assert board.schools[0].name.startswith("โรงเรียน")
    # Every year: the 2569 instance's 100 h round joins the officer's study.
    assert every_year.instances == 4
    assert {s.key: s.rounds for s in every_year.steps}["study"] == 5
    assert {s.key: s.median for s in every_year.steps}["study"] == 3 * 3600


@pytest.mark.parametrize("year", [2571, None])
def test_nothing_to_show(world: World, year: int | None) -> None:
    with world.khanton.db.transaction(read_only=True) as session:
        board = dashboard.build(session, "budget-transfer", year, now=NOW)
    assert (board.instances, board.steps, board.lanes, board.overdue_count, board.people) == (0, [], [], 0, [])
