"""BPMN timers as rows, on a controlled clock: deadlines escalate once, reminders leave the task where it
is, waits wait, a yearly start makes one instance per fiscal year across restarts (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from engine.models import Draft, HumanTask, Instance, Timer
from engine.time.firing import Poller, fire_due
from tests.conftest import World

DATA = Path(__file__).parent / "data"
# Tuesday 1 Dec 2026, 10:00 in Bangkok.
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=True) as traveller:
        yield traveller


def publish(world: World, key: str) -> None:
    response = world.api("analyst").put(f"/processes/{key}/bpmn", data=(DATA / f"{key}.bpmn").read_bytes(),
                                        content_type="application/xml")
    assert response.status_code == 201, response.get_json()


def start(world: World, key: str = "timer-deadline") -> dict[str, Any]:
    publish(world, key)
    response = world.api("officer").post("/instances", json={"process": key, "data": {}})
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def timeline(world: World, instance_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = world.api("supervisor").get(f"/instances/{instance_id}/timeline").get_json()
    return events


def ready(world: World, instance_id: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = world.api("supervisor").get(f"/instances/{instance_id}").get_json()["ready_tasks"]
    return tasks


def pending(world: World, instance_id: str | None = None) -> list[tuple[str, str]]:
    with world.khanton.db.transaction(read_only=True) as session:
        query = select(Timer.element, Timer.kind).where(Timer.status == "pending")
        if instance_id:
            query = query.where(Timer.instance_id == instance_id)
        return sorted((e, k) for e, k in session.execute(query).all())


def fired(world: World, instance_id: str) -> list[str]:
    with world.khanton.db.transaction(read_only=True) as session:
        return sorted(session.scalars(select(Timer.element).where(Timer.status == "fired",
                                                                  Timer.instance_id == instance_id)))


def test_a_task_waits_with_its_deadline_and_reminder_as_rows(world: World, clock: Any) -> None:
    instance = start(world)
    assert [t["name"] for t in ready(world, instance["id"])] == ["ตรวจเอกสาร"]
    assert pending(world, instance["id"]) == [("deadline", "deadline"), ("reminder", "reminder")]
    assert fire_due(world.khanton.db) == 0  # nothing is due yet


def test_a_reminder_fires_once_and_leaves_the_task_where_it_is(world: World, clock: Any) -> None:
    instance = start(world)
    task_id = ready(world, instance["id"])[0]["id"]
    clock.shift(timedelta(days=3, minutes=1))
    assert fire_due(world.khanton.db) == 1
    assert fire_due(world.khanton.db) == 0
    assert [t["id"] for t in ready(world, instance["id"])] == [task_id]  # the same round, not interrupted
    timers = [e for e in timeline(world, instance["id"]) if e["kind"] == "timer"]
    assert [(e["task"], e["task_name"], e["actor"]) for e in timers] == [(task_id, "ตรวจเอกสาร", "timer")]
    assert pending(world, instance["id"]) == [("deadline", "deadline")]
    done = world.api("officer").post(f"/tasks/{task_id}/complete", json={"data": {}})
    assert done.status_code == 200, done.get_json()


def test_a_deadline_passing_escalates_to_the_head_once(any_world: World, clock: Any) -> None:
    world = any_world
    instance = start(world)
    task_id = ready(world, instance["id"])[0]["id"]
    saved = world.api("officer").put(f"/tasks/{task_id}/draft", json={"data": {"note": "ยังไม่เสร็จ"}})
    assert saved.status_code == 200, saved.get_json()
    clock.shift(timedelta(days=10, minutes=1))  # both the reminder and the deadline are due
    assert fire_due(world.khanton.db) >= 1  # one firing runs the instance: both due timers fire in it
    assert fire_due(world.khanton.db) == 0
    assert fired(world, instance["id"]) == ["deadline", "reminder"]
    tasks = ready(world, instance["id"])
    assert [(t["name"], t["lane"]) for t in tasks] == [("หัวหน้ากลุ่มติดตามงานที่เกินกำหนด", "plan_head")]
    late = world.api("officer").post(f"/tasks/{task_id}/complete", json={"data": {}})
    assert late.status_code == 409  # the deadline took the task away
    with world.khanton.db.transaction(read_only=True) as session:  # the round taken away keeps no draft
        assert session.scalar(select(func.count()).select_from(Draft).where(Draft.task_id == task_id)) == 0
    kinds = [e["kind"] for e in timeline(world, instance["id"])]
    assert kinds.count("timer") == 2
    assert pending(world, instance["id"]) == []
    head = world.api("head").post(f"/tasks/{tasks[0]['id']}/complete", json={"data": {}})
    assert head.status_code == 200 and head.get_json()["status"] == "completed"


def test_a_task_done_in_time_cancels_its_timers(world: World, clock: Any) -> None:
    instance = start(world)
    task_id = ready(world, instance["id"])[0]["id"]
    assert world.api("officer").post(f"/tasks/{task_id}/complete", json={"data": {}}).status_code == 200
    assert pending(world, instance["id"]) == [("cool_off", "wait")]
    clock.shift(timedelta(days=11))
    assert fire_due(world.khanton.db) == 1  # only the wait: the deadline went with the task
    assert [t["name"] for t in ready(world, instance["id"])] == ["เก็บเข้าแฟ้ม"]


def test_an_intermediate_timer_waits_for_its_duration(world: World, clock: Any) -> None:
    instance = start(world)
    task_id = ready(world, instance["id"])[0]["id"]
    assert world.api("officer").post(f"/tasks/{task_id}/complete", json={"data": {}}).status_code == 200
    assert ready(world, instance["id"]) == []
    clock.shift(timedelta(minutes=59))
    assert fire_due(world.khanton.db) == 0
    assert ready(world, instance["id"]) == []
    clock.shift(timedelta(minutes=2))
    assert fire_due(world.khanton.db) == 1
    assert [t["name"] for t in ready(world, instance["id"])] == ["เก็บเข้าแฟ้ม"]


def test_a_task_is_due_in_thai_working_days(world: World, clock: Any) -> None:
    clock.move_to(datetime(2026, 12, 3, 3, 0, tzinfo=UTC))
    instance = start(world)  # Thursday 3 Dec 2026: 3 working days are Fri 4, Tue 8, Wed 9 (Mon 7 is in lieu of Sat 5)
    task = world.api("officer").get(f"/tasks/{ready(world, instance['id'])[0]['id']}").get_json()
    assert task["due_at"] == "2026-12-09T16:30:00+07:00"


def _instances(world: World, key: str) -> list[tuple[int | None, str]]:
    with world.khanton.db.transaction(read_only=True) as session:
        rows = session.execute(select(Instance.fiscal_year, Instance.started_by).where(Instance.process_key == key))
        return sorted((fy, by) for fy, by in rows.all())


def test_a_yearly_start_makes_one_instance_per_fiscal_year_across_restarts(any_world: World) -> None:
    world = any_world
    with time_machine.travel(datetime(2026, 9, 1, tzinfo=UTC), tick=True) as clock:
        publish(world, "timer-yearly")
        assert Poller(world.khanton.db)() == 0  # published in September: its first start is 1 Oct 2026
        clock.move_to(datetime(2026, 10, 1, 1, 31, tzinfo=UTC))  # 08:31 in Bangkok
        for _ in range(3):  # three restarts: each a new poller, as after a new process
            Poller(world.khanton.db)()
        assert _instances(world, "timer-yearly") == [(2570, "timer")]
        clock.move_to(datetime(2027, 6, 1, tzinfo=UTC))
        Poller(world.khanton.db)()  # (the office's own quarterly monitoring starts too: counted apart)
        assert _instances(world, "timer-yearly") == [(2570, "timer")]
        # Nothing ran from June 2027 to November 2028: the two missed starts fire, one per fiscal year.
        clock.move_to(datetime(2028, 11, 1, tzinfo=UTC))
        Poller(world.khanton.db)()
        assert len(_instances(world, "timer-yearly")) == 3
        assert Poller(world.khanton.db)() == 0
    assert _instances(world, "timer-yearly") == [(2570, "timer"), (2571, "timer"), (2572, "timer")]
    with world.khanton.db.transaction(read_only=True) as session:
        drafts = session.scalar(select(func.count()).select_from(HumanTask).join(Instance).where(
            HumanTask.status == "ready", Instance.process_key == "timer-yearly"))
        assert drafts == 3  # each instance passed its start event once: one draft each, no repeats inside
        row = session.scalars(select(Timer).where(Timer.start_key == "timer-yearly/start")).one()
        assert (row.occurrence, row.status) == (3, "pending")


def test_timer_literals_and_due_rules_are_checked_at_publish(world: World) -> None:
    xml = (DATA / "timer-deadline.bpmn").read_text()
    for bad, element, words in [
        (xml.replace("<bpmn:timeDuration>P10D<", "<bpmn:timeDuration>P10X<"), "deadline", "ISO 8601"),
        (xml.replace('value="3 วันทำการ"', 'value="สามวัน"'), "review", "dueIn"),
    ]:
        response = world.api("analyst").put("/processes/timer-deadline/bpmn", data=bad.encode(),
                                            content_type="application/xml")
        assert response.status_code == 422, response.get_json()
        details = response.get_json()["error"]["details"]
        assert any(d["element"] == element and words in d["message"] for d in details), details


def test_a_procedure_with_a_timer_start_started_by_hand_runs_once_at_once(world: World, clock: Any) -> None:
    instance = start(world, "timer-yearly")
    tasks = ready(world, instance["id"])
    assert [t["name"] for t in tasks] == ["จัดทำแผนปฏิบัติการ"]
    assert pending(world, instance["id"]) == []  # its start event does not wait for the next 1 October
    done = world.api("officer").post(f"/tasks/{tasks[0]['id']}/complete", json={"data": {}})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
