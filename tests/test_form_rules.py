"""Figures computed on the server (x-computed, x-at-most), signed documents (x-signed-document) and the
manual's step of each task (manualRef): in the engine alone, then through the HTTP API."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidData
from engine.form_rules import computed, signed
from engine.forms import check_schema, validate_data
from tests.conftest import World

FIXTURE = Path(__file__).parent / "data" / "figures"
TALLY: dict[str, Any] = json.loads((FIXTURE / "forms" / "figures-demo" / "tally.json").read_text(encoding="utf-8"))


def _refused(schema: dict[str, Any], data: dict[str, Any], known: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidData) as caught:
        validate_data(schema, data, known)
    return {e.field: e.message for e in caught.value.errors}


# --- the engine alone ---------------------------------------------------------------------------

def test_missing_figures_are_filled_in_to_the_satang() -> None:
    data: dict[str, Any] = {"lines": [{"project": "ก", "allocated": 100.1, "spent": 0.2},
                                      {"project": "ข", "allocated": 0.3, "spent": 0.1}]}
    validate_data(TALLY, data, {"budget_received": 1000})
    assert [line["leftover"] for line in data["lines"]] == [99.9, 0.2]  # not 99.89999999999999
    assert data["total_leftover"] == 100.1


def test_a_figure_that_differs_is_refused_naming_the_field_and_the_right_value() -> None:
    data = {"lines": [{"project": "ก", "allocated": 150000, "spent": 100000, "leftover": 5000}],
            "total_leftover": 5000}
    errors = _refused(TALLY, data, {"budget_received": 1_000_000})
    assert list(errors) == ["lines.0.leftover"]
    assert "50,000.00 บาท" in errors["lines.0.leftover"]


def test_a_total_that_is_not_the_sum_of_its_lines_is_refused() -> None:
    data = {"lines": [{"project": "ก", "allocated": 10, "spent": 4, "leftover": 6},
                      {"project": "ข", "allocated": 10, "spent": 5, "leftover": 5}], "total_leftover": 12}
    errors = _refused(TALLY, data, {"budget_received": 100})
    assert errors == {"total_leftover": "ยอดรวมเงินเหลือจ่าย (บาท) ต้องเท่ากับผลรวมของรายการ (11.00 บาท)"}


def test_a_figure_over_its_ceiling_is_refused_and_one_equal_to_it_passes() -> None:
    lines = [{"project": "ก", "allocated": 500.5, "spent": 0.5}]
    errors = _refused(TALLY, {"lines": [dict(line) for line in lines]}, {"budget_received": 499.99})
    assert list(errors) == ["total_leftover"]
    assert "เกินงบประมาณที่ได้รับ (499.99 บาท)" in errors["total_leftover"]
    validate_data(TALLY, {"lines": [dict(line) for line in lines]}, {"budget_received": 500})


def test_a_ceiling_that_names_data_not_given_holds_nothing_back() -> None:
    validate_data(TALLY, {"lines": [{"project": "ก", "allocated": 1, "spent": 0}]}, {})


def test_column_functions_are_written_out_for_the_restricted_evaluator() -> None:
    assert computed.expand("sum(lines.amount) - spent") == (
        "sum([each_line.get('amount') or 0 for each_line in lines]) - spent")


SPLIT = json.loads((Path(__file__).parent / "data" / "figures" / "forms" / "categories-demo" / "split.json")
                   .read_text(encoding="utf-8"))


def test_a_total_per_category_adds_only_the_rows_of_its_category() -> None:
    assert computed.expand("sum_where(lines.amount, lines.kind, kind)") == (
        "sum([each_line.get('amount') or 0 for each_line in lines if each_line.get('kind') == kind])")
    data: dict[str, Any] = {
        "lines": [{"budget_category": "งบลงทุน", "amount": 100.25}, {"budget_category": "งบดำเนินงาน", "amount": 7},
                  {"budget_category": "งบลงทุน", "amount": 0.5}],
        "category_totals": [{"budget_category": "งบดำเนินงาน"}, {"budget_category": "งบลงทุน"}]}
    computed.fill(SPLIT, data, {})
    assert [row["amount"] for row in data["category_totals"]] == [7.0, 100.75]
    data["category_totals"][1]["amount"] = 100.25
    [refusal] = computed.refusals(SPLIT, data, {})
    assert refusal.field == "category_totals.1.amount" and "100.75" in refusal.message


def test_a_total_per_category_must_name_one_table() -> None:
    # Columns of two tables cannot be paired row by row: left unexpanded, the check names the function.
    with pytest.raises(ValueError, match="sum_where"):
        check_schema({"type": "object", "properties": {
            "a": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "number"}}}},
            "b": {"type": "array", "items": {"type": "object", "properties": {"y": {"type": "string"}}}},
            "total": {"type": "number", "x-computed": "sum_where(a.x, b.y, 'k')"}}}, "x/y.json")


@pytest.mark.parametrize(("rule", "why"), [
    ({"type": "number", "x-computed": "__import__('os').system('x')"}, "ไม่อนุญาต"),
    ({"type": "number", "x-computed": "open('/etc/passwd')"}, "ไม่อนุญาต"),
    ({"type": "number", "x-at-most": "lines.amount"}, "แอตทริบิวต์"),
    ({"type": "string", "x-computed": "a + b"}, "ช่องตัวเลข"),
    ({"type": "number", "x-computed": "a +"}, "ไวยากรณ์"),
])
def test_a_form_with_an_unsafe_or_wrong_rule_is_refused_at_publish_time(rule: dict[str, Any], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_schema({"type": "object", "properties": {"total": rule}}, "x/y.json")


@pytest.mark.parametrize("spec", [
    "หนังสือ", {"title": ""}, {"title": "มติ", "accept": []}, {"title": "มติ", "accept": ["text/html"]},
])
def test_a_malformed_signed_document_requirement_is_refused_at_publish_time(spec: Any) -> None:
    with pytest.raises(ValueError, match="x-signed-document"):
        check_schema({"type": "object", "x-signed-document": spec}, "x/y.json")


def test_documents_are_told_apart_by_their_first_bytes() -> None:
    assert signed.sniff(b"%PDF-1.7\n") == "application/pdf"
    assert signed.sniff(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert signed.sniff(b"PK\x03\x04") is None and signed.sniff(b"<html>") is None


# --- through the API ----------------------------------------------------------------------------

@pytest.fixture
def figures(sqlite_url: str) -> Iterator[World]:
    w = World(sqlite_url, FIXTURE / "processes", FIXTURE / "forms")
    yield w
    w.close()


def _start(world: World, received: float = 1_000_000) -> dict[str, Any]:
    response = world.api("officer").post("/instances", json={"process": "figures-demo", "data": {
        "title": "ทดสอบ", "budget_received": received}})
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_a_task_carries_its_step_in_the_manual(figures: World) -> None:
    instance = _start(figures)
    task = figures.api("officer").get(f"/tasks/{instance['ready_tasks'][0]['id']}").get_json()
    assert task["manual_ref"] == "3.4 ขั้นที่ 3"
    lines = [{"project": "ก", "allocated": 10, "spent": 1}]
    after = figures.api("officer").post(f"/tasks/{task['id']}/complete", json={"data": {"lines": lines}}).get_json()
    record = figures.api("officer").get(f"/tasks/{after['ready_tasks'][0]['id']}").get_json()
    assert record["manual_ref"] is None


def test_the_server_fills_in_and_checks_the_figures(figures: World) -> None:
    instance = _start(figures, received=60_000)
    task_id = instance["ready_tasks"][0]["id"]
    api = figures.api("officer")
    wrong = {"lines": [{"project": "ก", "allocated": 150000, "spent": 100000, "leftover": 50000}],
             "total_leftover": 40000}
    refused = api.post(f"/tasks/{task_id}/complete", json={"data": wrong})
    assert refused.status_code == 422
    assert [d["field"] for d in refused.get_json()["error"]["details"]] == ["total_leftover"]
    assert "ผลรวมของรายการ (50,000.00 บาท)" in refused.get_json()["error"]["details"][0]["message"]
    over = {"lines": [{"project": "ก", "allocated": 150000, "spent": 80000}]}
    refused = api.post(f"/tasks/{task_id}/complete", json={"data": over})
    assert refused.status_code == 422 and refused.get_json()["error"]["details"][0]["field"] == "total_leftover"
    assert "เกินงบประมาณที่ได้รับ (60,000.00 บาท)" in refused.get_json()["error"]["details"][0]["message"]
    assert api.get(f"/tasks/{task_id}").get_json()["status"] == "ready"  # nothing stored
    done = api.post(f"/tasks/{task_id}/complete", json={"data": {"lines": [
        {"project": "ก", "allocated": 150000, "spent": 100000}]}})
    assert done.status_code == 200
    data = figures.api("supervisor").get(f"/instances/{instance['id']}").get_json()["data"]
    assert data["lines"][0]["leftover"] == 50000 and data["total_leftover"] == 50000


def _attach(world: World, task_id: str, name: str, content: bytes) -> int:
    response = world.api("officer").post(f"/tasks/{task_id}/attachments",
                                         data={"file": (io.BytesIO(content), name)},
                                         content_type="multipart/form-data")
    return int(response.status_code)


def test_recording_an_outside_decision_needs_the_signed_document(figures: World) -> None:
    instance = _start(figures)
    api = figures.api("officer")
    first = instance["ready_tasks"][0]["id"]
    after = api.post(f"/tasks/{first}/complete", json={"data": {"lines": [
        {"project": "ก", "allocated": 1, "spent": 1}]}}).get_json()
    task_id = after["ready_tasks"][0]["id"]
    refused = api.post(f"/tasks/{task_id}/complete", json={"data": {}})
    assert refused.status_code == 422
    fields = {d["field"]: d["message"] for d in refused.get_json()["error"]["details"]}
    assert set(fields) == {"reference", "x-signed-document"}  # said together
    assert "หนังสือหรือมติที่ลงนามแล้ว" in fields["x-signed-document"]
    # An Office file is a document, but not a signed one's scan: still refused.
    assert _attach(figures, task_id, "มติ.docx", b"PK\x03\x04" + b"\0" * 40) == 201
    refused = api.post(f"/tasks/{task_id}/complete", json={"data": {"reference": "ศธ 04001/123"}})
    assert refused.status_code == 422 and refused.get_json()["error"]["details"][0]["field"] == "x-signed-document"
    # A PDF whose content is not a PDF never gets in; a real one does, and the step completes.
    assert _attach(figures, task_id, "มติ.pdf", b"<html>not a pdf</html>") == 422
    assert _attach(figures, task_id, "มติ.pdf", b"%PDF-1.4\n%signed\n") == 201
    done = api.post(f"/tasks/{task_id}/complete", json={"data": {"reference": "ศธ 04001/123"}})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
