"""The procedures of manual sections 1, 2 and 4 as the office works them (issue #11).

Read from the files themselves: every task names its section and step in the manual, every decision
quotes the manual, outside bodies' decisions require the signed letter, nothing goes to an outside body
without the director's signature first. Then, through the API, the schools' own plan rounds of 2.2
step 9: each school its own round, and the officer compiles what they sent.
The paths (approved, returned, rejected-and-notified) are in tests/scenarios/, walked by
tests/test_procedures.py and, through the pages, tests/web/test_every_procedure.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from engine.models import Event
from tests.conftest import ROOT, SCHOOL_OF, World
from tests.drive import USER_OF_SCHOOL, advance_to, data_for, scenario, start, step

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
# Key -> (section, number of steps the manual lists for it).
SECTIONS = {"admin-office": ("1", 6), "policy-development": ("2.1", 8), "basic-education-plan": ("2.2", 10),
            "annual-action-plan": ("2.3", 9), "school-establishment": ("2.4", 5), "policy-monitoring": ("4.1.1", 5),
            "inspection-reporting": ("4.1.2", 6), "strategy-evaluation": ("4.2.1", 6),
            "development-plan-evaluation": ("4.2.2", 5), "action-plan-evaluation": ("4.2.3", 5),
            "me-system-development": ("4.3", 5)}
OUTSIDE = {"esa_board", "provincial_committee", "obec", "governor"}
MANUAL_REF = re.compile(r"^(?P<section>[0-9.]+) ขั้นที่ (?P<step>\d+)$")


def _process(key: str) -> Any:
    return etree.parse(str(ROOT / "processes" / f"{key}.bpmn")).find("bpmn:process", NS)


def _props(node: Any) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in node.iterfind(".//spiffworkflow:property", NS)}


def _lanes(process: Any) -> dict[str, str]:
    return {ref.text: lane.get("id") for lane in process.iterfind(".//bpmn:lane", NS)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS)}


def _form(key: str, task: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "forms" / _props(task)["formJsonSchemaFilename"])
                                        .read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("key", sorted(SECTIONS))
def test_every_task_names_its_section_and_step_in_the_manual(key: str) -> None:
    section, steps = SECTIONS[key]
    process = _process(key)
    nodes = [*process.iterfind("bpmn:userTask", NS), *process.iterfind("bpmn:callActivity", NS)]
    assert nodes
    seen = set()
    for node in nodes:
        ref = _props(node).get("manualRef", "")
        found = MANUAL_REF.match(ref)
        assert found, f"{key}: {node.get('id')} has no manualRef like '{section} ขั้นที่ 3' ({ref!r})"
        assert found["section"] == section, (node.get("id"), ref)
        assert 1 <= int(found["step"]) <= steps, (node.get("id"), ref)
        seen.add(int(found["step"]))
    missing = set(range(1, steps + 1)) - seen
    assert not missing, f"{key}: the manual's steps without a task: {missing}"


def test_the_closing_sub_process_tasks_name_where_they_are_called() -> None:
    for task in _process("monitor-and-report").iterfind("bpmn:userTask", NS):
        assert "ติดตาม ประเมินผล และรายงานผล" in _props(task).get("manualRef", ""), task.get("id")


@pytest.mark.parametrize("key", sorted(SECTIONS) + ["monitor-and-report"])
def test_every_decision_quotes_the_manual_or_says_what_justifies_it(key: str) -> None:
    process = _process(key)
    conditional = {f.get("sourceRef") for f in process.iterfind("bpmn:sequenceFlow", NS)
                   if f.find("bpmn:conditionExpression", NS) is not None}
    for gateway in process.iterfind("bpmn:exclusiveGateway", NS):
        if gateway.get("id") not in conditional:
            continue  # a merge, not a decision
        words = gateway.findtext("bpmn:documentation", "", NS)
        assert "\"" in words or "ประเด็น #11" in words, f"{key}: {gateway.get('id')} does not quote the manual"


@pytest.mark.parametrize("key", sorted(SECTIONS))
def test_outside_bodies_are_reached_only_through_the_directors_signature(key: str) -> None:
    process = _process(key)
    lanes = _lanes(process)
    flows = list(process.iterfind("bpmn:sequenceFlow", NS))
    for task in process.iterfind("bpmn:userTask", NS):
        if lanes[task.get("id")] not in OUTSIDE:
            continue
        form = _form(key, task)
        signed = form.get("x-signed-document", {})
        assert "application/pdf" in signed.get("accept", []), f"{key}: {task.get('id')} records no signed letter"
        into = [f for f in flows if f.get("targetRef") == task.get("id")]
        assert into, task.get("id")
        for flow in into:
            gateway = process.find(f"bpmn:exclusiveGateway[@id='{flow.get('sourceRef')}']", NS)
            assert gateway is not None and flow.findtext("bpmn:conditionExpression", "", NS) == 'decision == "approved"'
            signer = [f.get("sourceRef") for f in flows if f.get("targetRef") == gateway.get("id")]
            assert [lanes[s] for s in signer] == ["esa_director"], f"{key}: {task.get('id')} is not signed for first"


@pytest.mark.parametrize("key", sorted(SECTIONS) + ["monitor-and-report"])
def test_the_esa_board_is_called_as_the_manual_calls_it(key: str) -> None:
    process = _process(key)
    for lane in process.iterfind(".//bpmn:lane[@id='esa_board']", NS):
        assert lane.get("name") == "คณะกรรมการเขตพื้นที่การศึกษา"
    texts = [(ROOT / "processes" / f"{key}.bpmn").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in (ROOT / "forms" / key).glob("*.json")]
    assert not [t for t in texts if "กพท." in t], key


def _plan_rounds(world: World) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A basic education plan driven to 2.2 step 9: the schools' rounds, by school code."""
    instance = advance_to(world, start(world, "basic-education-plan"), "school_quality_plan")
    rounds = {t["school"]: t for t in instance["ready_tasks"]}
    assert set(rounds) == {SCHOOL_OF["school3"], SCHOOL_OF["school4"]}, instance["ready_tasks"]
    return instance, rounds


def test_each_school_makes_its_own_plan_and_the_officer_compiles_what_they_sent(world: World) -> None:
    instance, rounds = _plan_rounds(world)
    mine, other = rounds[SCHOOL_OF["school3"]], rounds[SCHOOL_OF["school4"]]
    school3, school4 = world.api("school3"), world.api("school4")
    assert [t["id"] for t in school3.get("/tasks").get_json()] == [mine["id"]]
    task = school3.get(f"/tasks/{mine['id']}").get_json()
    answer = {**data_for(task, {}), "school_plan_goals": "ยกระดับผลสัมฤทธิ์การอ่านออกเขียนได้ (บ้านตาก)"}
    # Neither another school nor the office types a school's plan for it.
    for api in (school4, world.api("officer")):
        refused = api.post(f"/tasks/{mine['id']}/complete", json={"data": answer})
        assert refused.status_code in (403, 404), refused.get_json()
    assert school3.post(f"/tasks/{mine['id']}/complete", json={"data": answer}).status_code == 200
    task = school4.get(f"/tasks/{other['id']}").get_json()
    done = school4.post(f"/tasks/{other['id']}/complete",
                        json={"data": {**data_for(task, {}), "school_plan_goals": "โรงเรียนคุณภาพชุมชน (สามเงา)"}})
    assert done.status_code == 200, done.get_json()
    after = world.api("officer").get(f"/instances/{instance['id']}").get_json()
    compile_task = world.api("officer").get(f"/tasks/{after['ready_tasks'][0]['id']}").get_json()
    assert compile_task["step"] == "compile_school_plans"
    sent = sorted(plan["school_plan_goals"] for plan in after["data"]["school_plans"])
    assert sent == sorted(["โรงเรียนคุณภาพชุมชน (สามเงา)", "ยกระดับผลสัมฤทธิ์การอ่านออกเขียนได้ (บ้านตาก)"])
    assert USER_OF_SCHOOL[SCHOOL_OF["school3"]] == "school3"


def test_a_rejected_evaluation_is_still_reported_and_signed_before_it_ends_rejected(world: World) -> None:
    instance = advance_to(world, start(world, "action-plan-evaluation"), "management_review")
    _, instance = step(world, instance, decision="rejected")
    report = world.api("officer").get(f"/tasks/{instance['ready_tasks'][0]['id']}").get_json()
    assert (report["step"], instance["status"]) == ("report_results", "running")
    _, instance = step(world, instance)
    _, instance = step(world, instance)  # the director signs the report
    assert instance["status"] == "rejected"
    kinds = [(e["kind"], e.get("task_name")) for e in
             world.api("supervisor").get(f"/instances/{instance['id']}/timeline").get_json()]
    assert kinds[-1][0] == "rejected"
    assert [k for k, _ in kinds].count("completed") == 7


def test_the_scenarios_cover_approved_returned_and_rejected_paths() -> None:
    for key in ("inspection-reporting", "development-plan-evaluation", "action-plan-evaluation"):
        paths = scenario(key)["paths"]
        rejected = [p for p in paths if p["end_status"] == "rejected"]
        assert rejected and all("director_sign_report" in p["visits"] for p in rejected), key


def test_admin_duties_are_recorded_one_occurrence_at_a_time_and_the_head_reviews_the_year(world: World) -> None:
    instance = advance_to(world, start(world, "admin-office"), "design_records_system")
    _, instance = step(world, instance, steps={"design_records_system": {"next_duty": "group_meetings"}})
    for number, then in (("1/2570", "group_meetings"), ("2/2570", "performance_report")):
        task = world.api("officer").get(f"/tasks/{instance['ready_tasks'][0]['id']}").get_json()
        assert task["step"] == "group_meetings" and task.get("manual_ref") in (None, "1 ขั้นที่ 3")
        _, instance = step(world, instance, steps={"group_meetings": {"meeting_no": number, "next_duty": then}})
    _, instance = step(world, instance)  # the yearly report
    summary = instance["ready_tasks"][0]
    assert summary["lane"] == "plan_head"
    _, instance = step(world, instance, decision="returned")
    assert world.api("officer").get(f"/tasks/{instance['ready_tasks'][0]['id']}").get_json()["step"] == \
        "performance_report"
    _, instance = step(world, instance)
    _, instance = step(world, instance)
    assert instance["status"] == "completed"
    # Each meeting is its own round: its record stays in the audit trail, the live state keeps one round.
    with world.khanton.db.transaction(read_only=True) as session:
        recorded = [data["meeting_no"] for data in session.scalars(
            select(Event.data).where(Event.instance_id == instance["id"], Event.kind == "completed").order_by(Event.id))
            if data and "meeting_no" in data]
    assert recorded == ["1/2570", "2/2570"]
