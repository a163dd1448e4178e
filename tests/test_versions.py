"""Comparing two versions with SpiffWorkflow's spec diff (engine/authoring/compare.py) and the history's
notes, counts and zip download: v2 removes `check`, adds `notify`, renames `approve` and moves it to
another lane, and adds a field to `fill`'s form (tests/data/versions)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from engine.authoring import compare, history
from tests.conftest import World
from tests.versions_world import KEY, make_world, publish_v1, publish_v2, start


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("versions")
    world = make_world(f"sqlite:///{tmp / 'khanton.db'}", tmp)
    publish_v1(world)
    start(world, "งานบนรุ่นแรก")
    publish_v2(world)
    yield world
    world.close()


def _compared(world: World, a: int = 1, b: int = 2) -> compare.Comparison:
    with world.khanton.db.transaction(read_only=True) as session:
        return compare.compare(session, KEY, a, b)


def test_the_typed_result_names_what_was_added_removed_and_changed(two: World) -> None:
    result = _compared(two)
    assert (result.older, result.newer) == (1, 2)
    assert [(e.element, e.name, e.type) for e in result.added] == [("notify", "แจ้งผลการอนุมัติ", "UserTask")]
    assert [(e.element, e.name) for e in result.removed] == [("check", "ตรวจเอกสาร")]
    approve = next(e for e in result.changed if e.element == "approve")
    assert {"bpmn_name", "lane"} <= set(approve.attributes)
    assert "lane (ผู้รับผิดชอบ)" in approve.described and approve.name == "อนุมัติคำขอ"
    assert "start" not in {e.element for e in result.elements}  # unchanged elements are not listed


def test_forms_are_compared_field_by_field(two: World) -> None:
    forms = {f.form: f for f in _compared(two).forms}
    fill = forms["versions-demo/fill.json"]
    assert fill.kind == "changed"
    assert [(c.kind, c.field, c.title) for c in fill.fields] == [("added", "amount", "จำนวนเงิน (บาท)")]
    assert forms["versions-demo/check.json"].kind == "removed"
    assert forms["versions-demo/notify.json"].kind == "added"
    assert "versions-demo/approve.json" not in forms  # the same schema in both


def test_the_other_way_round_swaps_added_and_removed(two: World) -> None:
    back = _compared(two, 2, 1)
    assert [e.element for e in back.added] == ["check"] and [e.element for e in back.removed] == ["notify"]
    assert _compared(two, 2, 2).same


def test_a_field_whose_rules_change_is_changed_with_its_keywords() -> None:
    old = {"type": "object", "properties": {"n": {"type": "integer", "title": "จำนวน", "maximum": 10}}}
    new = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer", "title": "จำนวน",
                                                                     "maximum": 20}}}
    change = compare.form_changes("f.json", old, new)
    assert change is not None and change.fields[0].kind == "changed"
    assert change.fields[0].keywords == ("maximum", "required")
    assert "10" in change.fields[0].before and "20" in change.fields[0].after
    assert compare.form_changes("f.json", old, old) is None


def test_the_api_answers_the_comparison_to_analysts_only(two: World) -> None:
    body: dict[str, Any] = two.api("analyst").get(f"/processes/{KEY}/versions/1/compare/2").get_json()
    assert [e["element"] for e in body["removed"]] == ["check"]
    assert body["forms"][1]["fields"][0]["field"] == "amount"
    denied = two.api("supervisor").get(f"/processes/{KEY}/versions/1/compare/2")
    assert denied.status_code == 403 and "analyst" in denied.get_json()["error"]["message"]
    assert two.api("supervisor").get(f"/processes/{KEY}/versions/1/compare/9").status_code == 404
    assert two.api("analyst").get("/processes/nope/versions/1/compare/2").status_code == 404


def test_history_keeps_who_when_the_note_and_what_runs_on_each(two: World) -> None:
    with two.khanton.db.transaction(read_only=True) as session:
        rows = history.history(session, KEY)
    assert [(r.version, r.published_by, r.running) for r in rows] == [(2, "analyst", 0), (1, "analyst", 1)]
    assert rows[0].note == "ตัดขั้นตรวจเอกสาร เพิ่มขั้นแจ้งผล" and rows[1].note == "รุ่นแรก"
    assert rows[0].published_at.tzinfo is not None


def test_a_note_in_the_header_is_read_as_utf8_and_identical_xml_makes_no_version(two: World) -> None:
    api = two.api("analyst")
    again = api.client.put(f"/api/v1/processes/{KEY}/bpmn", data=api.get(f"/processes/{KEY}/bpmn").data,
                           headers={**api.headers, "X-Khanton-Note": "ไม่เปลี่ยน".encode().decode("latin-1")})
    assert again.status_code == 200 and again.get_json()["version"] == 2


def test_a_version_downloads_as_a_zip_of_its_diagram_and_forms(two: World) -> None:
    with two.khanton.db.transaction(read_only=True) as session:
        data = history.download(session, KEY, 1)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(archive.namelist()) == ["forms/versions-demo/approve.json", "forms/versions-demo/check.json",
                                          "forms/versions-demo/fill.json", "version.json",
                                          f"{KEY}.bpmn"]
    assert b'id="check"' in archive.read(f"{KEY}.bpmn")
    assert "amount" not in json.loads(archive.read("forms/versions-demo/fill.json"))["properties"]  # v1's form
    assert json.loads(archive.read("version.json"))["note"] == "รุ่นแรก"
