"""A school is a school: each per-school round goes to its school, only that school's users see and
complete it, a school that took no part sees nothing of the instance, and two schools answering at
the same moment both succeed (on SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import instances
from engine.errors import KhantonError
from engine.models import Event, HumanTask, Instance, User
from engine.service import Khanton
from tests.conftest import ROOT, SCHOOL_OF, World
from tests.drive import data_for, scenario, start, step
from web.demo import SCHOOL_ROWS, load_demo

KEY = "expenditure-analysis"
PDF = b"%PDF-1.4 school letter"


def _rounds(world: World) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """An expenditure analysis whose officer listed two schools: the instance and its rounds by school code."""
    instance = start(world, KEY)
    _, instance = step(world, instance)  # notify_survey: the scenario lists 1063010001 and 1063010002
    rounds = {t["school"]: t for t in instance["ready_tasks"]}
    assert set(rounds) == {SCHOOL_OF["school"], SCHOOL_OF["school2"]}, instance["ready_tasks"]
    return instance, rounds


def _numbers(answer: Any) -> set[int]:
    """Every number anywhere in a JSON answer (not its text: a task id may well contain "654")."""
    if isinstance(answer, dict):
        return set().union(*map(_numbers, answer.values()))
    if isinstance(answer, list):
        return set().union(*map(_numbers, answer))
    return {answer} if isinstance(answer, int) and not isinstance(answer, bool) else set()


def _answer(world: World, user: str, task_id: str, students: int) -> Any:
    api = world.api(user)
    task = api.get(f"/tasks/{task_id}").get_json()
    data = {**data_for(task, scenario(KEY)["steps"]), "student_count": students}
    return api.post(f"/tasks/{task_id}/complete", json={"data": data})


# --- the register: schools and their users -----------------------------------------------------------


def test_schools_are_added_once_with_a_well_formed_code(world: World) -> None:
    khanton = world.khanton
    khanton.add_school("1063020001", "โรงเรียนบ้านแม่สลิด", "บ้านตาก")
    assert {"code": "1063020001", "name": "โรงเรียนบ้านแม่สลิด", "district": "บ้านตาก"} in khanton.schools()
    with pytest.raises(KhantonError, match="มีสถานศึกษารหัส 1063020001 อยู่แล้ว"):
        khanton.add_school("1063020001", "โรงเรียนอื่น")
    for bad in ("10630", "10630200O1", "1063020001; drop table schools", "", "١٠٦٣٠٢٠٠٠٢"):
        with pytest.raises(KhantonError, match="รหัสสถานศึกษา .* ไม่ถูกต้อง"):
            khanton.add_school(bad, "โรงเรียนใหม่")
    with pytest.raises(KhantonError, match="ต้องระบุชื่อสถานศึกษา"):
        khanton.add_school("1063020002", "  ")
    with pytest.raises(KhantonError, match="อักขระควบคุม"):
        khanton.add_school("1063020002", "โรงเรียน\ud800")
    assert len(khanton.schools()) == 6  # the five of the fixtures and the one above


def test_a_school_user_belongs_to_one_school_that_exists(world: World) -> None:
    khanton = world.khanton
    with pytest.raises(KhantonError, match="ต้องระบุสถานศึกษาที่สังกัด"):
        khanton.add_user("kru_a", ["officer"], ["school"])
    with pytest.raises(KhantonError, match="ไม่พบสถานศึกษารหัส 1063099999"):
        khanton.add_user("kru_a", ["officer"], ["school"], school="1063099999")
    with pytest.raises(KhantonError, match="เฉพาะผู้ใช้ใน lane school"):
        khanton.add_user("kru_a", ["officer"], ["plan_officer"], school="1063010001")
    with pytest.raises(KhantonError, match="อยู่ได้เฉพาะ lane school"):
        khanton.add_user("kru_a", ["officer"], ["school", "plan_officer"], school="1063010001")
    khanton.add_user("kru_a", ["officer"], ["school"], school=" 1063010001 ")
    assert khanton.actor("kru_a").school == "1063010001"
    with khanton.db.transaction(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.username == "kru_a")) == 1


def test_a_school_user_from_before_schools_were_data_sees_no_round_until_bound(world: World) -> None:
    world.khanton.add_user("kru_old", ["officer"], ["school"], school="1063010001")
    with world.khanton.db.transaction() as session:  # as the upgrade left them: lane school, no school
        user = session.scalar(select(User).where(User.username == "kru_old"))
        assert user is not None
        user.school = None
    _, rounds = _rounds(world)
    assert world.khanton.ready_tasks(world.khanton.actor("kru_old")) == []
    with pytest.raises(KhantonError, match="ไม่พบสถานศึกษารหัส 1063099999"):
        world.khanton.set_school("kru_old", "1063099999")
    with pytest.raises(KhantonError, match="เฉพาะผู้ใช้ใน lane school"):
        world.khanton.set_school("officer", "1063010001")
    world.khanton.set_school("kru_old", "1063010002")
    assert [t["id"] for t in world.khanton.ready_tasks(world.khanton.actor("kru_old"))] == [
        rounds["1063010002"]["id"]]


# --- per-school rounds --------------------------------------------------------------------------------


def test_each_round_goes_to_its_school_and_only_its_users_see_and_do_it(world: World) -> None:
    instance, rounds = _rounds(world)
    mine, theirs = rounds[SCHOOL_OF["school"]], rounds[SCHOOL_OF["school2"]]
    assert mine["name"].endswith("โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)")
    school, outsider = world.api("school"), world.api("outsider")

    assert [t["id"] for t in school.get("/tasks").get_json()] == [mine["id"]]
    assert [t["id"] for t in world.api("school2").get("/tasks").get_json()] == [theirs["id"]]
    assert outsider.get("/tasks").get_json() == []
    assert world.api("officer").get("/tasks").get_json() == []  # not the office's lane

    assert school.get(f"/tasks/{theirs['id']}").status_code == 403
    refused = school.post(f"/tasks/{theirs['id']}/complete", json={"data": {"student_count": 1}})
    assert refused.status_code == 403 and "สถานศึกษาอื่น" in refused.get_json()["error"]["message"]
    with pytest.raises(KhantonError, match="ไม่ได้อยู่ในความรับผิดชอบ"):
        world.khanton.claim(theirs["id"], world.khanton.actor("school"))
    with pytest.raises(KhantonError, match="แนบเอกสารได้เฉพาะ"):
        world.khanton.attach(theirs["id"], world.khanton.actor("school"), "letter.pdf", PDF)
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.get(HumanTask, theirs["id"])
        assert row is not None and row.status == "ready" and row.assignee is None

    assert _answer(world, "school", mine["id"], 321).status_code == 200
    world.khanton.claim(theirs["id"], world.khanton.actor("school2"))
    world.khanton.attach(theirs["id"], world.khanton.actor("school2"), "letter.pdf", PDF)
    assert _answer(world, "school2", theirs["id"], 654).status_code == 200
    after = world.api("supervisor").get(f"/instances/{instance['id']}").get_json()
    assert sorted(r["student_count"] for r in after["data"]["school_reports"]) == [321, 654]


def test_a_school_that_took_no_part_sees_nothing_of_the_instance(world: World) -> None:
    instance, rounds = _rounds(world)
    outsider = world.api("outsider")
    assert outsider.get(f"/instances/{instance['id']}").status_code == 403
    assert outsider.get(f"/instances/{instance['id']}/timeline").status_code == 403
    assert outsider.get(f"/tasks/{rounds[SCHOOL_OF['school']]['id']}").status_code == 403
    assert instance["id"] not in [i["id"] for i in outsider.get("/instances").get_json()]
    assert outsider.get("/instances/no-such-instance").status_code == 404  # 404 before 403
    attachment = world.khanton.attach(rounds[SCHOOL_OF["school"]]["id"], world.khanton.actor("school"),
                                      "letter.pdf", PDF)
    with pytest.raises(KhantonError, match="ไม่มีสิทธิ์ดูเอกสารนี้"):
        world.khanton.attachment(attachment["id"], world.khanton.actor("outsider"))


def test_a_school_reads_the_start_data_and_its_own_round_never_another_schools_answer(world: World) -> None:
    instance, rounds = _rounds(world)
    mine, theirs = rounds[SCHOOL_OF["school"]], rounds[SCHOOL_OF["school2"]]
    assert _answer(world, "school2", theirs["id"], 654).status_code == 200
    done = _answer(world, "school", mine["id"], 321)
    assert done.status_code == 200
    school = world.api("school")
    seen = school.get(f"/instances/{instance['id']}").get_json()
    seen_start = {*scenario(KEY)["start"], "current_school"}
    assert seen["data"] == {**scenario(KEY)["start"],
                            "current_school": {"code": "1063010001", "name": "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)"},
                            **{k: v for k, v in done.get_json()["data"].items() if k not in seen_start}}
    assert seen["data"]["student_count"] == 321 and "school_reports" not in seen["data"]
    assert 654 not in _numbers(seen) and 654 not in _numbers(done.get_json())
    assert [t["name"] for t in seen["ready_tasks"]] == [t["name"] for t in world.api("supervisor").get(
        f"/instances/{instance['id']}").get_json()["ready_tasks"]]  # the office's next step, no other round

    events = school.get(f"/instances/{instance['id']}/timeline").get_json()
    assert theirs["id"] not in [e["task"] for e in events]
    assert 654 not in _numbers(events)
    own = [e for e in events if e["task"] == mine["id"]]
    assert own and own[0]["data"]["student_count"] == 321
    # The officer's notice listed both schools: the school sees the step happened, not its data.
    notice = next(e for e in events if e["step"] == "notify_survey")
    assert notice["data"] is None
    everything = world.api("supervisor").get(f"/instances/{instance['id']}/timeline").get_json()
    assert theirs["id"] in [e["task"] for e in everything]


def test_a_listed_code_that_is_no_known_school_is_refused_naming_the_row(any_world: World) -> None:
    world = any_world
    instance = start(world, KEY)
    summary = instance["ready_tasks"][0]
    officer = world.api("officer")
    task = officer.get(f"/tasks/{summary['id']}").get_json()
    data = data_for(task, scenario(KEY)["steps"])
    data["schools"] = [{"code": "1063010001", "name": "โรงเรียนบ้านสาธิตเมืองตาก"},
                       {"code": "1063077777", "name": "โรงเรียนที่ไม่มีในทะเบียน"}]
    with world.khanton.db.transaction(read_only=True) as session:
        revision = session.scalar(select(Instance.revision).where(Instance.id == instance["id"]))
    response = officer.post(f"/tasks/{summary['id']}/complete", json={"data": data})
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["details"] == [{"field": "schools.1.code", "message": "สถานศึกษาแถวที่ 2: ไม่พบสถานศึกษารหัส "
                                 "1063077777 ในทะเบียนสถานศึกษา (ผู้ดูแลระบบเพิ่มได้ด้วย khanton school add)"}]
    with world.khanton.db.transaction(read_only=True) as session:
        assert session.scalar(select(Instance.revision).where(Instance.id == instance["id"])) == revision
        assert session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.instance_id == instance["id"])) == 1
        assert session.scalar(select(func.count()).select_from(Event).where(
            Event.instance_id == instance["id"], Event.kind == "completed")) == 0
    data["schools"][1]["code"] = "1063010001"
    twice = officer.post(f"/tasks/{summary['id']}/complete", json={"data": data})
    assert twice.status_code == 422
    assert twice.get_json()["error"]["details"] == [
        {"field": "schools.1.code", "message": "สถานศึกษาแถวที่ 2: สถานศึกษารหัส 1063010001 ซ้ำกับสถานศึกษาแถวที่ 1"}]
    data["schools"][1]["code"] = "1063010002"
    assert officer.post(f"/tasks/{summary['id']}/complete", json={"data": data}).status_code == 200


# --- two schools at the same moment -------------------------------------------------------------------


def test_two_schools_completing_their_own_rounds_at_once_both_succeed(any_world: World) -> None:
    world = any_world
    for attempt in range(4):  # several rounds, to give a race more than one chance to show
        instance, rounds = _rounds(world)
        people = {"school": 100 + attempt, "school2": 200 + attempt}
        prepared = {}
        for user, students in people.items():
            task_id = rounds[SCHOOL_OF[user]]["id"]
            task = world.api(user).get(f"/tasks/{task_id}").get_json()
            prepared[user] = (task_id, {**data_for(task, scenario(KEY)["steps"]), "student_count": students})
        barrier = threading.Barrier(len(prepared))
        results: dict[str, tuple[int, Any]] = {}

        def complete(user: str, task_id: str, data: dict[str, Any], barrier: threading.Barrier = barrier,
                     results: dict[str, tuple[int, Any]] = results) -> None:
            api = world.api(user)
            barrier.wait()
            response = api.post(f"/tasks/{task_id}/complete", json={"data": data})
            results[user] = (response.status_code, response.get_json())

        threads = [threading.Thread(target=complete, args=(user, *prepared[user])) for user in prepared]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert {user: code for user, (code, _) in results.items()} == {"school": 200, "school2": 200}, results
        after = world.api("supervisor").get(f"/instances/{instance['id']}").get_json()
        assert sorted(r["student_count"] for r in after["data"]["school_reports"]) == sorted(people.values())
        # Both schools have answered: the internal groups' rounds come next (3.1 step 1).
        assert [t["name"] for t in after["ready_tasks"]] == [
            "กลุ่ม / หน่วยงานภายใน สำรวจและรายงานข้อมูล — กลุ่มบริหารงานการเงินและสินทรัพย์ (สาธิต)"]
        with world.khanton.db.transaction(read_only=True) as session:
            completed = session.scalar(select(func.count()).select_from(Event).where(
                Event.instance_id == instance["id"], Event.kind == "completed"))
        assert completed == 3  # the notice and the two schools' answers


# --- the command line and the demo -----------------------------------------------------------------


def _khanton(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "web.cli", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120, check=False, cwd=ROOT)


def test_the_operator_adds_schools_and_their_users_from_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'office.db'}"}
    assert _khanton(["init"], env).returncode == 0
    added = _khanton(["school", "add", "1063050105", "--name", "โรงเรียนบ้านแม่ระมาด", "--district", "แม่ระมาด"], env)
    assert added.returncode == 0 and "school 1063050105 added" in added.stdout, added.stderr
    again = _khanton(["school", "add", "1063050105", "--name", "โรงเรียนซ้ำ"], env)
    assert again.returncode == 1 and "มีสถานศึกษารหัส 1063050105 อยู่แล้ว" in again.stderr
    assert "Traceback" not in again.stderr
    bad = _khanton(["school", "add", "abc", "--name", "โรงเรียน"], env)
    assert bad.returncode == 1 and "รหัสสถานศึกษา 'abc' ไม่ถูกต้อง" in bad.stderr
    no_school = _khanton(["user", "add", "kru", "--role", "officer", "--lane", "school", "--password-stdin"],
                         env, "pw\n")
    assert no_school.returncode == 1 and "--school" in no_school.stderr
    user = _khanton(["user", "add", "kru", "--role", "officer", "--lane", "school", "--school", "1063050105",
                     "--password-stdin"], env, "pw\n")
    assert user.returncode == 0, user.stderr
    assert _khanton(["school", "add", "1063050106", "--name", "โรงเรียนบ้านห้วยบง"], env).returncode == 0
    moved = _khanton(["user", "school", "kru", "1063050106"], env)
    assert moved.returncode == 0 and "user kru: school 1063050106" in moved.stdout, moved.stderr
    khanton = Khanton(env["DATABASE_URL"])
    try:
        assert khanton.actor("kru").school == "1063050106"
        assert khanton.sign_in("kru", "pw") is not None
        assert {s["name"] for s in khanton.schools()} == {"โรงเรียนบ้านแม่ระมาด", "โรงเรียนบ้านห้วยบง"}
    finally:
        khanton.db.dispose()


def test_the_demo_has_four_schools_each_with_its_user_and_rounds_named_by_code(world: World) -> None:
    load_demo(world.khanton)
    khanton = world.khanton
    demo_codes = {code for code, _, _ in SCHOOL_ROWS}
    assert demo_codes <= {s["code"] for s in khanton.schools()}
    users = {name: khanton.actor(name).school for name in ("school_nongbua", "school_bantak", "school_samngao",
                                                            "school_wangchao")}
    assert set(users.values()) == demo_codes
    anan = khanton.actor("anan")
    analysis = next(i for i in khanton.instances(anan, process="expenditure-analysis"))
    waiting = khanton.instance(analysis["id"], anan)["ready_tasks"]
    assert len(waiting) == 2 and {t["school"] for t in waiting} <= demo_codes
    for name, code in users.items():
        mine = khanton.ready_tasks(khanton.actor(name))
        assert all(t["school"] == code for t in mine)
        assert len(mine) == (1 if code in {t["school"] for t in waiting} else 0)



def test_a_completion_whose_instance_moved_meanwhile_is_run_again_on_the_fresh_state(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The safety net behind the instance lock: when the revision check fails (a writer that took no
    lock), the completion runs again in a new transaction instead of losing the person's answer."""
    instance, rounds = _rounds(world)
    real_save = instances._save
    refused: list[int] = []

    def stale_once(session: Any, row: Instance, workflow: Any, expected: int) -> None:
        if not refused:
            refused.append(expected)
            raise instances.StaleInstance("someone else wrote the instance")
        real_save(session, row, workflow, expected)

    monkeypatch.setattr(instances, "_save", stale_once)
    assert _answer(world, "school", rounds[SCHOOL_OF["school"]]["id"], 321).status_code == 200
    assert refused
    seen = world.api("school").get(f"/instances/{instance['id']}").get_json()
    assert seen["data"]["student_count"] == 321
    with world.khanton.db.transaction(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Event).where(
            Event.task_id == rounds[SCHOOL_OF["school"]]["id"], Event.kind == "completed")) == 1
