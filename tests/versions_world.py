"""A procedure with two versions for the versions tests: v1 fill → check → approve; v2 drops `check`,
renames `approve` and moves it to the director's lane, adds `notify` after it, and adds a field to
`fill`'s form (tests/data/versions)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.conftest import World

DATA = Path(__file__).parent / "data" / "versions"
KEY = "versions-demo"


def make_world(url: str, tmp: Path) -> World:
    shutil.copytree(DATA / "forms", tmp / "forms")
    (tmp / "processes").mkdir()
    return World(url, tmp / "processes", tmp / "forms")


def publish_v1(world: World) -> None:
    response = world.api("analyst").put(f"/processes/{KEY}/bpmn?note=รุ่นแรก", data=(DATA / "v1.bpmn").read_bytes())
    assert response.status_code == 201, response.get_json()


def publish_v2(world: World) -> None:
    forms = Path(world.khanton.forms_dir) / KEY
    shutil.copy(forms / "fill-v2.json", forms / "fill.json")
    response = world.api("analyst").put(f"/processes/{KEY}/bpmn?note=ตัดขั้นตรวจเอกสาร เพิ่มขั้นแจ้งผล",
                                        data=(DATA / "v2.bpmn").read_bytes())
    assert response.status_code == 201, response.get_json()


def start(world: World, title: str) -> dict[str, Any]:
    response = world.api("officer").post("/instances", json={"process": KEY, "data": {"title": title}})
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def complete(world: World, user: str, task_id: str, data: dict[str, Any]) -> dict[str, Any]:
    response = world.api(user).post(f"/tasks/{task_id}/complete", json={"data": data})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def instances_at(world: World) -> dict[str, dict[str, Any]]:
    """On v1: one waiting at `fill`, one at `check` (removed in v2), one at `approve` (moved lane)."""
    at_fill = start(world, "รอกรอก")
    at_check = start(world, "รอตรวจ")
    at_check = complete(world, "officer", at_check["ready_tasks"][0]["id"], {"subject": "ขอซื้อ"})
    at_approve = start(world, "รอเห็นชอบ")
    at_approve = complete(world, "officer", at_approve["ready_tasks"][0]["id"], {"subject": "ขอจ้าง"})
    at_approve = complete(world, "officer", at_approve["ready_tasks"][0]["id"], {"complete": True})
    return {"fill": at_fill, "check": at_check, "approve": at_approve}
