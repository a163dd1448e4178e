"""Helpers that drive procedures through the API as the right person for each lane."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path
from typing import Any

from engine.form_samples import sample
from tests.conftest import SCHOOL_OF, World

SCENARIOS = Path(__file__).parent / "scenarios"
LANE_USER = {"plan_officer": "officer", "esa_board": "officer", "provincial_committee": "officer",
             "governor": "officer", "obec": "officer", "committee": "committee", "plan_head": "head",
             "esa_director": "director", "school": "school", "office_group": "group"}
USER_OF_SCHOOL = {code: user for user, code in SCHOOL_OF.items()}


def user_for(summary: dict[str, Any]) -> str:
    """Who completes a ready task: a school's round its school's user, any other the lane's person."""
    school = summary.get("school")
    return USER_OF_SCHOOL[school] if school else LANE_USER[summary["lane"]]


def scenario(key: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCENARIOS / f"{key}.json").read_text(encoding="utf-8"))
    return loaded


def data_for(task: dict[str, Any], steps: dict[str, Any], decision: str | None = None) -> dict[str, Any]:
    """Valid data for a task's form: synthesized, then the scenario's values, then the decision."""
    data: dict[str, Any] = sample(task["form"])
    data.update(steps.get(task["step"], {}))
    if "decision" in task["form"].get("properties", {}):
        data["decision"] = decision or "approved"
    return data


# The smallest file the attachments check accepts as a PDF: what a scanned, signed letter stands in for.
SIGNED_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def needs_signed_document(task: dict[str, Any]) -> bool:
    """A form that records an outside body's decision requires the signed letter or resolution attached."""
    return bool(task["form"].get("x-signed-document"))


def attach_signed(api: Any, task: dict[str, Any]) -> None:
    """Upload the signed letter before completing a task whose form requires one (as the officer does)."""
    if needs_signed_document(task):
        body = {"file": (BytesIO(SIGNED_PDF), f"มติ-{task['step']}.pdf")}
        response = api.post(f"/tasks/{task['id']}/attachments", data=body, content_type="multipart/form-data")
        assert response.status_code == 201, response.get_json()


def answers_for(route: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A path's per-visit values for any field (a duty chosen at each round), beside its decisions."""
    return {step: [dict(values) for values in visits] for step, visits in route.get("answers", {}).items()}


def start(world: World, key: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"process": key, "data": data if data is not None else scenario(key).get("start", {})}
    response = world.api("officer").post("/instances", json=body)
    assert response.status_code == 201, response.get_json()
    instance: dict[str, Any] = response.get_json()
    return instance


def step(world: World, instance: dict[str, Any], decision: str | None = None,
         steps: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """Complete the first ready task; returns (step id, instance after it)."""
    summary = instance["ready_tasks"][0]
    api = world.api(user_for(summary))
    task = api.get(f"/tasks/{summary['id']}").get_json()
    key = instance["process"]
    data = data_for(task, steps if steps is not None else scenario(key).get("steps", {}), decision)
    attach_signed(api, task)
    response = api.post(f"/tasks/{summary['id']}/complete", json={"data": data})
    assert response.status_code == 200, (task["step"], response.get_json())
    # A school reads only its own round: the instance as the officer who started it sees it.
    after: dict[str, Any] = world.api("officer").get(f"/instances/{instance['id']}").get_json()
    return task["step"], after


def advance_to(world: World, instance: dict[str, Any], target: str) -> dict[str, Any]:
    """Complete steps (approving) until `target` is the first ready task."""
    for _ in range(50):
        ready = instance["ready_tasks"]
        if ready and _step_of(world, ready[0]) == target:
            return instance
        _, instance = step(world, instance)
    raise AssertionError(f"never reached {target}")


def _step_of(world: World, summary: dict[str, Any]) -> str:
    task = world.api("supervisor").get(f"/tasks/{summary['id']}").get_json()
    return str(task["step"])


def budget_transfer_at_study(world: World, start_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A budget transfer, started by the officer, past its schools' round (one school asked, and it answered):
    the officer's study of the spending is ready."""
    khanton = world.khanton
    officer = khanton.actor("officer")
    instance = khanton.start("budget-transfer", start_data or {"fiscal_year": 2570}, officer)
    school = next(code for user, code in SCHOOL_OF.items() if user == "school")
    instance = khanton.complete(instance["ready_tasks"][0]["id"], {
        "report_request_no": "ศธ 04173/1", "report_requested_on": "2026-10-01",
        "schools": [{"code": school, "name": "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)"}]}, officer)
    round_id = instance["ready_tasks"][0]["id"]
    return dict(khanton.complete(round_id, {"spending_lines": [
        {"plan_project": "อาหารกลางวัน", "category": "งบเงินอุดหนุน", "allocated": 1000, "spent": 900}],
        "reported_by": "ผู้อำนวยการโรงเรียน"}, khanton.actor("school")))
