"""The procedures of manual section 3 as the office works them (issue #11): every task traced to its step
in the manual, every decision documented with the manual's words, the director's sign-off before what
leaves the office, outside bodies' decisions backed by their signed documents, figures computed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.forms import validate_data
from tests.conftest import ROOT

SECTION_3 = {"expenditure-analysis": "3.1", "budget-request": "3.2.1", "external-resources": "3.2.2",
             "budget-allocation": "3.3.1", "spending-plan": "3.3.2", "budget-transfer": "3.4"}
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
OUTSIDE = {"esa_board", "provincial_committee", "governor"}


def _process(key: str) -> Any:
    return etree.parse(str(ROOT / "processes" / f"{key}.bpmn")).getroot().find("bpmn:process", NS)


def _props(node: Any) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in node.iterfind(".//spiffworkflow:property", NS)}


def _form(relative: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "forms" / relative).read_text(encoding="utf-8"))
    return loaded


def _lanes(process: Any) -> dict[str, str]:
    return {(ref.text or "").strip(): lane.get("id") for lane in process.iter(f"{{{NS['bpmn']}}}lane")
            for ref in lane.iterfind("bpmn:flowNodeRef", NS)}


@pytest.mark.parametrize(("key", "section"), SECTION_3.items())
def test_every_task_names_its_step_in_the_manual(key: str, section: str) -> None:
    refs = {task.get("id"): _props(task).get("manualRef") for task in _process(key).iter(f"{{{NS['bpmn']}}}userTask")}
    step = re.compile(rf"{re.escape(section)} ขั้นที่ \d+")
    wrong = {task: ref for task, ref in refs.items() if not ref or not step.fullmatch(ref)}
    assert wrong == {}


@pytest.mark.parametrize("key", SECTION_3)
def test_every_decision_quotes_the_manual_or_says_what_justifies_it(key: str) -> None:
    undocumented = [gw.get("id") for gw in _process(key).iter(f"{{{NS['bpmn']}}}exclusiveGateway")
                    if not (gw.findtext("bpmn:documentation", "", NS) or "").strip()]
    assert undocumented == []


@pytest.mark.parametrize("key", SECTION_3)
def test_outside_bodies_decide_on_a_signed_proposal_and_record_their_signed_document(key: str) -> None:
    process = _process(key)
    lanes = _lanes(process)
    incoming = {flow.get("targetRef"): flow.get("sourceRef") for flow in process.iterfind("bpmn:sequenceFlow", NS)}
    for task in process.iter(f"{{{NS['bpmn']}}}userTask"):
        if lanes[task.get("id")] not in OUTSIDE:
            continue
        assert "x-signed-document" in _form(_props(task)["formJsonSchemaFilename"]), task.get("id")
        gateway = incoming[task.get("id")]  # reached only through the director's sign-off gateway
        signer = incoming[gateway]
        assert lanes[signer] == "esa_director" and task.get("id") != signer, (task.get("id"), signer)


@pytest.mark.parametrize("key", SECTION_3)
def test_a_no_is_notified_before_the_instance_ends(key: str) -> None:
    process = _process(key)
    nodes = {n.get("id"): n for n in process}
    for end in process.iter(f"{{{NS['bpmn']}}}endEvent"):
        if _props(end).get("khantonEndStatus") != "rejected":
            continue
        flow = next(f for f in process.iterfind("bpmn:sequenceFlow", NS) if f.get("targetRef") == end.get("id"))
        before = nodes[flow.get("sourceRef")]
        came_from = {f.get("sourceRef") for f in process.iterfind("bpmn:sequenceFlow", NS)
                     if f.get("targetRef") == before.get("id")}
        names = " ".join((nodes[n].get("name") or "") for n in {before.get("id"), *came_from})
        assert "แจ้ง" in names or "บันทึก" in names, (key, end.get("id"), names)


def test_the_invented_steps_are_gone() -> None:
    budget_request = _process("budget-request")
    assert "request_kind" not in etree.tostring(budget_request, encoding="unicode")  # urgent no longer skips step 4
    allocation = {t.get("id") for t in _process("budget-allocation").iter(f"{{{NS['bpmn']}}}userTask")}
    assert "approve_allocation" not in allocation
    assert not (ROOT / "forms" / "budget-allocation" / "approve_allocation.json").exists()


def test_in_3_1_not_approved_sends_the_report_back_to_the_committee() -> None:
    process = _process("expenditure-analysis")
    out = {f.get("targetRef") for f in process.iterfind("bpmn:sequenceFlow", NS) if f.get("sourceRef") == "gw_director"}
    assert out == {"publish_report", "committee_analysis"}
    enum = _form("expenditure-analysis/director_review.json")["properties"]["decision"]["x-enum-titles"]
    assert enum[1].startswith("ไม่เห็นชอบ")


def test_category_totals_are_the_sum_of_their_lines() -> None:
    schema = _form("budget-allocation/analyze_allocation.json")
    data: dict[str, Any] = {
        "allocation_meeting_date": "2026-11-20", "budget_ceiling": 1000, "allocation_criteria": "ตามจำนวนนักเรียน",
        "school_allocations": [
            {"school_code": "1", "school_name": "ก", "budget_category": "งบลงทุน", "amount": 300.25},
            {"school_code": "2", "school_name": "ข", "budget_category": "งบดำเนินงาน", "amount": 100},
            {"school_code": "3", "school_name": "ค", "budget_category": "งบลงทุน", "amount": 0.5}],
        "office_allocations": [{"unit_name": "กลุ่มนโยบายและแผน", "budget_category": "งบดำเนินงาน", "amount": 50}],
        "category_totals": [{"budget_category": "งบลงทุน"}, {"budget_category": "งบดำเนินงาน"}]}
    validate_data(schema, data, {"received_budget": 1000})
    assert [row["amount"] for row in data["category_totals"]] == [300.75, 150.0]
    assert data["total_allocated"] == 450.75


def test_the_docs_list_each_decision_and_each_tasks_step() -> None:
    text = (ROOT / "docs" / "procedures.md").read_text(encoding="utf-8")
    assert "| 3.4 ขั้นที่ 5 | จัดสรรเงินเหลือจ่าย" in text
    assert "\"สำนักงานเขตพื้นที่การศึกษา นำเสนอผู้อำนวยการ ฯ พิจารณา กรณีพิจารณาไม่เห็นชอบ" in text
    assert Path(ROOT / "docs" / "diagrams" / "budget-transfer.png").is_file()
