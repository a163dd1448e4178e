"""Decisions awaited from outside bodies get reminders (a non-interrupting `R/P7D` boundary timer on each
task of an outside body's lane), on a controlled clock: every 7 days the officer who records the decision
is reminded (a `timer` event on the timeline, a notice), and the task stays where it is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from lxml import etree
from sqlalchemy import select

from engine.models import Notification, Timer
from engine.people.lanes import outside_bodies
from engine.time.firing import fire_due
from tests.conftest import ROOT, World
from tests.drive import advance_to, start, step

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tuesday 1 Dec 2026, 10:00 in Bangkok
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=True) as traveller:
        yield traveller


def test_every_task_of_an_outside_body_has_a_reminder(world: World) -> None:
    with world.khanton.db.transaction(read_only=True) as session:
        outside = outside_bodies(session)
    found = 0
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        tree = etree.parse(str(path))
        lane_of = {ref.text.strip(): lane.get("id") for lane in tree.iter(f"{BPMN}lane")
                   for ref in lane.findall(f"{BPMN}flowNodeRef") if ref.text}
        reminders = {b.get("attachedToRef") for b in tree.iter(f"{BPMN}boundaryEvent")
                     if b.get("cancelActivity") == "false" and b.findtext(f".//{BPMN}timeCycle") == "R/P7D"}
        for task in tree.iter(f"{BPMN}userTask", f"{BPMN}manualTask"):
            if lane_of.get(task.get("id", "")) in outside:
                assert task.get("id") in reminders, (path.name, task.get("id"))
                found += 1
    assert found == 10


def _notices(world: World, task_id: str) -> list[tuple[str, str, bool]]:
    with world.khanton.db.transaction(read_only=True) as session:
        return [(n.username, n.title, n.read_at is None) for n in session.scalars(
            select(Notification).where(Notification.task_id == task_id, Notification.kind == "reminder"))]


def test_a_reminder_fires_every_seven_days_without_interrupting(world: World, clock: Any) -> None:
    instance = advance_to(world, start(world, "budget-transfer"), "board_approval")
    task = instance["ready_tasks"][0]
    assert task["lane"] == "esa_board"
    clock.shift(timedelta(days=6, hours=23))
    assert fire_due(world.khanton.db) == 0  # not yet
    clock.shift(timedelta(hours=2))
    assert fire_due(world.khanton.db) == 1
    assert fire_due(world.khanton.db) == 0  # once
    officer = world.api("officer")
    now = officer.get(f"/instances/{instance['id']}").get_json()
    assert [t["id"] for t in now["ready_tasks"]] == [task["id"]]  # the task stays where it was
    events = [e for e in officer.get(f"/instances/{instance['id']}/timeline").get_json() if e["kind"] == "timer"]
    assert [(e["data"]["kind"], e["task"]) for e in events] == [("reminder", task["id"])]
    assert _notices(world, task["id"]) == [("officer", task["name"], True)]  # who records the board's decision

    with world.khanton.db.transaction() as session:
        for notice in session.scalars(select(Notification).where(Notification.task_id == task["id"])):
            notice.read_at = datetime.now(UTC)
    clock.shift(timedelta(days=7))
    assert fire_due(world.khanton.db) == 1
    assert _notices(world, task["id"]) == [("officer", f"{task['name']} (เตือนครั้งที่ 2)", True)]

    # The board decides: the officer records it; the reminders stop.
    with world.khanton.db.transaction(read_only=True) as session:
        assert session.scalars(select(Timer.status).where(Timer.instance_id == instance["id"],
                                                          Timer.kind == "reminder")).all().count("pending") == 1
    _, after = step(world, now)
    assert all(t["id"] != task["id"] for t in after["ready_tasks"])
    with world.khanton.db.transaction(read_only=True) as session:
        statuses = session.scalars(select(Timer.status).where(Timer.instance_id == instance["id"],
                                                              Timer.kind == "reminder")).all()
    assert "pending" not in statuses and statuses.count("fired") == 2
    clock.shift(timedelta(days=30))
    assert fire_due(world.khanton.db) == 0
