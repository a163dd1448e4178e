"""Answer-by dates of per-school rounds, on a controlled clock: the officer chooses the date when sending
the rounds (or the diagram's default in working days applies); before it the officer sees who answered;
after it the officer closes the late schools' rounds and goes on with the answers received."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from engine.errors import Conflict, Forbidden
from engine.models import Event, HumanTask
from tests.conftest import SCHOOL_OF, World

# Tuesday 1 Dec 2026, 10:00 in Bangkok.
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SCHOOLS = [{"code": SCHOOL_OF["school"], "name": "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)"},
           {"code": SCHOOL_OF["school2"], "name": "โรงเรียนบ้านสาธิตวังเจ้า (สาธิต)"}]
SPENDING = {"spending_lines": [{"plan_project": "อาหารกลางวัน", "category": "งบเงินอุดหนุน", "allocated": 1000,
                                "spent": 900}], "reported_by": "ผู้อำนวยการโรงเรียน"}


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def send_rounds(world: World, due_on: str | None) -> dict[str, Any]:
    khanton = world.khanton
    officer = khanton.actor("officer")
    instance = khanton.start("budget-transfer", {"fiscal_year": 2570}, officer)
    data: dict[str, Any] = {"report_request_no": "ศธ 04173/1", "report_requested_on": "2026-12-01",
                            "schools": SCHOOLS}
    if due_on:
        data["report_due_on"] = due_on
    return dict(khanton.complete(instance["ready_tasks"][0]["id"], data, officer))


def rounds(world: World, instance_id: str) -> list[HumanTask]:
    with world.khanton.db.transaction(read_only=True) as session:
        return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                            HumanTask.school.is_not(None))))


def test_the_chosen_date_is_each_rounds_due_date(world: World, clock: time_machine.Coordinates) -> None:
    instance = send_rounds(world, "2026-12-15")
    due = {r.due_at.replace(tzinfo=UTC) for r in rounds(world, instance["id"]) if r.due_at}
    assert due == {datetime(2026, 12, 15, 9, 30, tzinfo=UTC)}  # 16:30 in Bangkok, the office's close


def test_without_a_date_the_diagrams_default_in_working_days(world: World, clock: time_machine.Coordinates) -> None:
    instance = send_rounds(world, None)
    due = {r.due_at.replace(tzinfo=UTC) for r in rounds(world, instance["id"]) if r.due_at}
    # "10 วันทำการ" after Tue 1 Dec 2026: Mon 7 Dec (the substitution day for 5 Dec) and Thu 10 Dec
    # (Constitution Day) are holidays, so the tenth working day is Thu 17 Dec.
    assert due == {datetime(2026, 12, 17, 9, 30, tzinfo=UTC)}


def test_a_late_school_is_closed_and_the_officer_goes_on(world: World, clock: time_machine.Coordinates) -> None:
    khanton = world.khanton
    officer, school = khanton.actor("officer"), khanton.actor("school")
    instance = send_rounds(world, "2026-12-04")
    mine = next(t for t in instance["ready_tasks"] if t["school"] == SCHOOL_OF["school"])
    khanton.complete(mine["id"], SPENDING, school)

    before = khanton.answer_rounds(instance["id"], officer)
    assert [(r.school, r.status) for r in before[0].rounds] == [
        (SCHOOL_OF["school"], "answered"), (SCHOOL_OF["school2"], "waiting")]
    assert not before[0].may_close
    with pytest.raises(Conflict, match="ยังไม่ถึงวันกำหนดตอบ"):
        khanton.close_late_rounds(instance["id"], "school_spending_report", officer, before[0].revision)

    clock.move_to(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))  # 17:00 in Bangkok: the day is over
    after = khanton.answer_rounds(instance["id"], officer)
    assert [r.status for r in after[0].rounds] == ["answered", "overdue"] and after[0].may_close
    with pytest.raises(Forbidden):
        khanton.close_late_rounds(instance["id"], "school_spending_report", khanton.actor("school2"), None)
    with pytest.raises(Conflict, match="โหลดหน้าใหม่"):
        khanton.close_late_rounds(instance["id"], "school_spending_report", officer, after[0].revision - 1)

    assert khanton.close_late_rounds(instance["id"], "school_spending_report", officer, after[0].revision) == 1
    closed = khanton.answer_rounds(instance["id"], officer)[0]
    assert [(r.school, r.status) for r in closed.rounds] == [
        (SCHOOL_OF["school"], "answered"), (SCHOOL_OF["school2"], "late")]
    assert not closed.may_close
    now = khanton.instance(instance["id"], officer)
    assert [t["lane"] for t in now["ready_tasks"]] == ["plan_officer"]  # the officer's compiling step
    assert now["data"]["school_spending_reports_late"] == [{"code": SCHOOL_OF["school2"],
                                                          "name": "โรงเรียนบ้านสาธิตวังเจ้า (สาธิต)"}]
    assert len(now["data"]["school_spending_reports"]) == 1
    with world.khanton.db.transaction(read_only=True) as session:
        events = session.scalars(select(Event).where(Event.instance_id == instance["id"],
                                                     Event.kind == "timer")).all()
        assert [(e.data or {}).get("kind") for e in events] == ["answer_by"]
        assert (events[0].data or {}).get("school") == SCHOOL_OF["school2"]
    with pytest.raises(Conflict):  # nothing is left to close: a second close changes nothing
        khanton.close_late_rounds(instance["id"], "school_spending_report", officer, None)
    late = next(r for r in rounds(world, instance["id"]) if r.school == SCHOOL_OF["school2"])
    assert late.status == "late"
    with pytest.raises(Conflict, match="เลยวันกำหนดตอบแล้ว"):  # the late school's answer comes too late
        khanton.complete(late.id, SPENDING, khanton.actor("school2"))
    assert timedelta(0) <= datetime.now(UTC) - late.completed_at.replace(tzinfo=UTC) < timedelta(seconds=5)


def test_through_the_api_the_officer_sees_the_rounds_and_closes_the_late_ones(
        world: World, clock: time_machine.Coordinates) -> None:
    instance = send_rounds(world, "2026-12-04")
    mine = next(t for t in instance["ready_tasks"] if t["school"] == SCHOOL_OF["school"])
    world.khanton.complete(mine["id"], SPENDING, world.khanton.actor("school"))
    officer = world.api("officer")
    path = f"/instances/{instance['id']}/rounds"
    early = officer.post(f"{path}/school_spending_report/close", json={})
    assert early.status_code == 409 and "ยังไม่ถึงวันกำหนดตอบ" in early.get_json()["error"]["message"]
    clock.move_to(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    [step] = officer.get(path).get_json()
    assert step["may_close"] and [r["status"] for r in step["rounds"]] == ["answered", "overdue"]
    assert world.api("school2").post(f"{path}/school_spending_report/close", json={}).status_code == 403
    assert officer.post(f"{path}/school_spending_report/close", json={"revision": "x"}).status_code == 422
    assert officer.post("/instances/no-such/rounds/school_spending_report/close", json={}).status_code == 404
    closed = officer.post(f"{path}/school_spending_report/close", json={"revision": step["revision"]})
    assert closed.status_code == 200 and closed.get_json() == {"closed": 1}
    assert [r["status"] for r in officer.get(path).get_json()[0]["rounds"]] == ["answered", "late"]
