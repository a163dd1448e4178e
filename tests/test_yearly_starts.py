"""The annual action plan and the quarterly policy monitoring start themselves (their diagrams' timer start
events), on a controlled clock: exactly one instance per fiscal year / quarter across scheduler restarts
and several workers, with the fiscal year (Buddhist era) and the quarter in their data; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from engine.models import HumanTask, Instance
from engine.time.firing import Poller
from engine.time.starts import fiscal_quarter_of
from tests.conftest import World
from tests.drive import scenario


def _started(world: World, key: str) -> list[tuple[Any, ...]]:
    with world.khanton.db.transaction(read_only=True) as session:
        rows = session.scalars(select(Instance).where(Instance.process_key == key).order_by(Instance.started_at))
        return [(i.fiscal_year, i.data.get("fiscal_quarter"), i.started_by, i.title) for i in rows]


def test_fiscal_quarters_begin_in_october() -> None:
    assert [fiscal_quarter_of(date(2026, m, 1)) for m in (10, 12, 1, 3, 4, 6, 7, 9)] == [1, 1, 2, 2, 3, 3, 4, 4]


def test_the_yearly_and_quarterly_procedures_start_themselves_once_each(any_world: World) -> None:
    world = any_world
    with time_machine.travel(datetime(2026, 9, 15, 3, 0, tzinfo=UTC), tick=True) as clock:
        workers = [Poller(world.khanton.db, f"host-{n}:1") for n in range(2)]  # two worker processes
        assert sum(w() for w in workers) == 0  # mid-September: nothing is due yet
        assert _started(world, "annual-action-plan") == [] and _started(world, "policy-monitoring") == []

        clock.move_to(datetime(2026, 10, 1, 1, 31, tzinfo=UTC))  # 1 Oct 2026, 08:31 in Bangkok
        for _ in range(2):  # two restarts: new pollers, as new processes after a restart
            workers = [Poller(world.khanton.db, f"host-{n}:2") for n in range(2)]
            for worker in workers:
                worker()
        assert [row[:3] for row in _started(world, "annual-action-plan")] == [(2570, None, "timer")]
        assert _started(world, "annual-action-plan")[0][3].endswith("ปีงบประมาณ 2570")
        assert [row[:3] for row in _started(world, "policy-monitoring")] == [(2570, 1, "timer")]
        assert "ไตรมาสที่ 1" in _started(world, "policy-monitoring")[0][3]

        # Nothing ran from October to mid-April: the two missed quarters start, one each; no second plan.
        clock.move_to(datetime(2027, 4, 15, 3, 0, tzinfo=UTC))
        assert Poller(world.khanton.db, "host-3:1")() == 2
        assert Poller(world.khanton.db, "host-4:1")() == 0
        assert [row[:3] for row in _started(world, "policy-monitoring")] == [
            (2570, 1, "timer"), (2570, 2, "timer"), (2570, 3, "timer")]
        assert len(_started(world, "annual-action-plan")) == 1

        clock.move_to(datetime(2027, 10, 1, 2, 0, tzinfo=UTC))  # the next fiscal year
        Poller(world.khanton.db, "host-5:1")()
        assert [row[0] for row in _started(world, "annual-action-plan")] == [2570, 2571]
        assert [row[:2] for row in _started(world, "policy-monitoring")][-2:] == [(2570, 4), (2571, 1)]
    with world.khanton.db.transaction(read_only=True) as session:
        first = session.scalars(select(HumanTask).join(Instance, Instance.id == HumanTask.instance_id).where(
            Instance.process_key == "annual-action-plan", HumanTask.status == "ready")).all()
        assert len(first) == 2  # each plan waits at its first step, once


@pytest.mark.parametrize("key", ["annual-action-plan", "policy-monitoring"])
def test_started_by_hand_it_still_runs_at_once(world: World, key: str) -> None:
    officer = world.khanton.actor("officer")
    started = world.khanton.start(key, scenario(key)["start"], officer)
    assert started["status"] == "running" and len(started["ready_tasks"]) == 1
