"""The timeline of steps (engine/read/timeline.py) and the diagram's marks (engine/read/diagram.py) for an
instance with a known history: a budget allocation whose letter the director returned once, its
times then set to known moments around a weekend and a public holiday (Saturday 5 December 2026 and
its substitute, Monday 7 December), so the waits in office hours are known figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.models import HumanTask, Instance
from engine.read import diagram, timeline
from engine.read.working_time import thai_duration, working_minutes
from engine.thai_calendar import BANGKOK
from engine.time.working_days import WorkingCalendar
from tests import drive
from tests.conftest import World

BKK = BANGKOK


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('timeline') / 'k.db'}")
    instance = drive.start(world, "budget-allocation")
    for decision in (None, None, None, "returned", None, "approved"):
        _, instance = drive.step(world, instance, decision)
    # Known moments: each round ready at 09:00 Bangkok on consecutive days from Thursday 3 Dec 2026,
    # done at 15:30 the next calendar day (the Friday round waits over the long weekend).
    base = datetime(2026, 12, 3, 9, 0, tzinfo=BKK)
    with world.khanton.db.transaction() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance["id"])
                               .order_by(HumanTask.created_at, HumanTask.id)).all()
        for i, row in enumerate(r for r in rows if r.status == "completed"):
            row.created_at = (base + timedelta(days=i)).astimezone(UTC).replace(tzinfo=None)
            row.completed_at = (base + timedelta(days=i + 1, hours=6, minutes=30)).astimezone(UTC).replace(tzinfo=None)
    yield world, instance["id"]
    world.close()


def _timeline(world: World, instance_id: str, now: datetime) -> timeline.Timeline:
    with world.khanton.db.transaction(read_only=True) as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        return timeline.build(session, instance, now)


def test_office_minutes_skip_weekends_holidays_and_nights(history: tuple[World, str]) -> None:
    world, _ = history
    with world.khanton.db.transaction(read_only=True) as session:
        calendar = WorkingCalendar.load(session)
    friday = datetime(2026, 12, 4, 15, 30, tzinfo=BKK)
    tuesday = datetime(2026, 12, 8, 9, 30, tzinfo=BKK)  # Sat 5 Dec holiday, Sun, Mon 7 Dec its substitute
    assert working_minutes(calendar, friday, tuesday) == 60 + 60
    assert working_minutes(calendar, tuesday, friday) == 0
    assert working_minutes(calendar, datetime(2026, 12, 8, 7, 0, tzinfo=BKK),
                           datetime(2026, 12, 8, 20, 0, tzinfo=BKK)) == 8 * 60
    assert thai_duration(8 * 60 * 2 + 135) == "2 วันทำการ 2 ชม. 15 นาที"
    assert thai_duration(0) == "ไม่ถึง 1 นาที"


def test_every_round_with_its_wait_decision_documents_and_loop(history: tuple[World, str]) -> None:
    world, instance_id = history
    now = datetime(2026, 12, 15, 10, 0, tzinfo=BKK)
    found = _timeline(world, instance_id, now)
    done = [s for s in found.steps if s.status == "completed"]
    assert [(s.step, s.round) for s in done] == [
        ("appoint_committee", 1), ("analyze_allocation", 1), ("notify_allocation", 1), ("sign_notice", 1),
        ("notify_allocation", 2), ("sign_notice", 2)]
    # Thu 3 09:00 -> Fri 4 15:30: 7h30 on Thursday + 7h on Friday.
    assert done[0].waited_minutes == 450 + 420 and done[0].waited == "1 วันทำการ 6 ชม. 30 นาที"
    # Fri 4 09:00 -> Sat 5 15:30: Friday only (Saturday is a weekend and the King's birthday).
    assert done[1].waited_minutes == 450
    # Sat 5 09:00 -> Sun 6 15:30: nothing. Sun 6 -> Mon 7 (substitution day): nothing.
    assert done[2].waited_minutes == 0 and done[3].waited_minutes == 0
    # Mon 7 09:00 -> Tue 8 15:30: Tuesday 08:30-15:30.
    assert done[4].waited_minutes == 420
    assert done[3].decision == "returned" and done[3].returned and done[3].decision_title == "ส่งกลับแก้ไข"
    assert done[5].decision == "approved" and done[5].decision_title
    assert done[3].documents and all(isinstance(d, str) and d for d in done[3].documents)
    assert done[2].done_by == "officer" and done[3].done_by == "director" and done[3].done_by_name
    assert [loop.number for loop in found.loops] == [1]
    assert found.loops[0].step == "sign_notice" and found.loops[0].by == "director"
    waiting = [s for s in found.steps if s.status == "ready"]
    assert {s.step for s in waiting} == {"school_projects"} and all(s.round == 1 for s in waiting)
    assert all(s.done_at is None and s.waited_minutes > 0 for s in waiting)  # still counting, to now


def test_the_steps_endpoint_answers_the_same_figures(history: tuple[World, str]) -> None:
    world, instance_id = history
    answer = world.api("supervisor").get(f"/instances/{instance_id}/steps")
    assert answer.status_code == 200
    body = answer.get_json()
    assert [s["round"] for s in body["steps"] if s["step"] == "notify_allocation"] == [1, 2]
    assert body["steps"][0]["waited_minutes"] == 870 and body["steps"][0]["ready_at"].endswith("+07:00")
    assert body["loops"][0]["number"] == 1
    # The timeline keeps its shape (api.md).
    events = world.api("supervisor").get(f"/instances/{instance_id}/timeline").get_json()
    assert {"at", "actor", "kind", "task", "task_name", "lane"} <= set(events[0])
    assert world.api("outsider").get(f"/instances/{instance_id}/steps").status_code == 403
    assert world.api("supervisor").get("/instances/nope/steps").status_code == 404


def test_the_diagram_marks_done_current_and_the_way_taken(history: tuple[World, str]) -> None:
    world, instance_id = history
    with world.khanton.db.transaction(read_only=True) as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        marks = diagram.marks(session, instance)
    main, called = marks[0], marks[1]
    assert main.key == "budget-allocation" and called.key == "monitor-and-report"
    assert "<bpmn" in called.xml and "mr_monitor" in called.xml
    assert {"appoint_committee", "analyze_allocation", "notify_allocation", "sign_notice"} <= main.completed
    assert main.current == {"school_projects"}
    assert ("notify_allocation", "sign_notice") in main.flows
    assert ("sign_notice", "notify_allocation") in main.flows  # the way back of the return for revision
    assert not called.completed and not called.current
    shown = world.app.test_client()
    assert shown.get(f"/instances/{instance_id}/diagram.json").status_code in (302, 401)  # signed in only
