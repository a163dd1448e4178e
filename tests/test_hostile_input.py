"""Hostile and malformed input through the HTTP API: a clear refusal in the API's shape, nothing stored."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import Event, HumanTask, Instance, ProcessVersion
from engine.storable import NOT_FINITE_MESSAGE
from tests import drive
from tests.conftest import ROOT, World
from tests.web.conftest import Page
from web import forms_render


def _counts(world: World) -> tuple[int | None, int | None]:
    with world.khanton.db.transaction(read_only=True) as session:
        return (session.scalar(select(func.count()).select_from(Instance)),
                session.scalar(select(func.count()).select_from(Event)))


def test_json_nested_deeper_than_the_decoder_goes_is_a_400(world: World) -> None:
    before = _counts(world)
    deep = "[" * 100_000 + "]" * 100_000
    response = world.api("officer").post("/instances", data=deep, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert _counts(world) == before


def test_control_characters_in_text_are_refused_naming_the_field(any_world: World) -> None:
    """PostgreSQL text cannot hold NUL: the refusal must come from validation, on both databases."""
    before = _counts(any_world)
    body = {"process": "budget-transfer", "data": {"fiscal_year": 2570, "title": "โอน\u0000งบ"}}
    response = any_world.api("officer").post("/instances", json=body)
    assert response.status_code == 422
    assert [d["field"] for d in response.get_json()["error"]["details"]] == ["title"]
    assert _counts(any_world) == before
    # Tabs and line breaks are ordinary text.
    body["data"]["title"] = "โอนงบ\tครั้งที่ 1\r\nปี 2570"
    assert any_world.api("officer").post("/instances", json=body).status_code == 201


def test_out_of_range_and_non_numeric_query_parameters(world: World) -> None:
    api = world.api("officer")
    for path in ("/processes/budget-transfer/bpmn?version=999999999999999999999",
                 "/instances?fiscal_year=-99999999999999999999", "/tasks?offset=99999999999999999999",
                 "/tasks?limit=abc"):
        response = api.get(path)
        assert response.status_code == 400, path
        assert response.get_json()["error"]["code"] == "bad_request", path


def test_unknown_addresses_answer_in_the_shape_of_their_side(world: World) -> None:
    api = world.api("officer")
    missing = api.get("/no-such-thing")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    wrong_method = api.client.delete("/api/v1/processes", headers=api.headers)
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"
    page = world.app.test_client().get("/no-such-page")
    assert page.status_code == 404
    assert "ไม่พบหน้าที่ต้องการ" in page.get_data(as_text=True)


# --- Nothing stored that cannot be read back (issue 7, point 6) ------------------------------------

def _stored(world: World) -> tuple[Any, ...]:
    """Everything a refused request could have written: row counts and every instance's revision."""
    with world.khanton.db.transaction(read_only=True) as session:
        counts = tuple(session.scalar(select(func.count()).select_from(model))
                       for model in (Instance, Event, HumanTask, ProcessVersion))
        revisions = tuple(session.execute(select(Instance.id, Instance.revision).order_by(Instance.id)))
        return counts, revisions


def _post_raw(world: World, user: str, path: str, body: str) -> Any:
    """A body as written, so that NaN, 1e400 and "\\ud800" reach the server as a client sent them."""
    api = world.api(user)
    return api.client.post(f"/api/v1{path}", data=body.encode("utf-8"), headers=api.headers,
                           content_type="application/json")


DEEP = "[" * 200 + "]" * 200
UNREADABLE_START = [  # (data as JSON text, the field the refusal must name)
    ('{"note": "ab\\ud800cd"}', "note"),
    ('{"rows": [{"name": "\\udfff"}]}', "rows.0.name"),
    ('{"amount": NaN}', "amount"),
    ('{"amount": Infinity}', "amount"),
    ('{"amount": -Infinity}', "amount"),
    ('{"amount": 1e400}', "amount"),
    (f'{{"fiscal_year": {2**70}}}', "fiscal_year"),
    (f'{{"fiscal_year": {2**40}}}', "fiscal_year"),  # fits JSON readers, not the integer column
    (f'{{"count": {-(2**64)}}}', "count"),
    ('{"ok\\n": 1}', "ok\n"),
    (f'{{"deep": {DEEP}}}', "deep" + ".0" * 31),
    (f'{{"{"k" * 5000}": 1}}', "k" * 100 + "…"),
]


@pytest.mark.parametrize(("data", "field"), UNREADABLE_START, ids=[f for _, f in UNREADABLE_START])
def test_start_data_that_cannot_be_read_back_is_a_422_naming_the_field(any_world: World, data: str,
                                                                        field: str) -> None:
    before = _stored(any_world)
    # monitor-and-report has no start form: nothing but the engine's own rules stands in the way.
    response = _post_raw(any_world, "officer", "/instances", f'{{"process": "monitor-and-report", "data": {data}}}')
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert field in [d["field"] for d in error["details"]]
    assert all(d["message"] for d in error["details"])
    assert _stored(any_world) == before


def test_a_lone_surrogate_in_task_data_is_refused_and_the_instance_stays_readable(any_world: World) -> None:
    instance = drive.advance_to(any_world, drive.start(any_world, "budget-transfer"), "study_spending")
    task_id = instance["ready_tasks"][0]["id"]
    api = any_world.api("officer")
    data = drive.data_for(api.get(f"/tasks/{task_id}").get_json(), drive.scenario("budget-transfer")["steps"])
    data["spending_sources"][0]["source_name"] = "กลุ่ม\ud800การเงิน"
    before = _stored(any_world)
    body = json.dumps({"data": data})  # ensure_ascii: the surrogate travels as \ud800, as a client sends it
    response = _post_raw(any_world, "officer", f"/tasks/{task_id}/complete", body)
    assert response.status_code == 422
    assert [d["field"] for d in response.get_json()["error"]["details"]] == ["spending_sources.0.source_name"]
    assert _stored(any_world) == before
    assert api.get(f"/instances/{instance['id']}").status_code == 200
    assert api.get(f"/instances/{instance['id']}/timeline").status_code == 200
    # NaN in a money field says what is wrong (not "two decimal places at most").
    data["spending_sources"][0]["source_name"] = "กลุ่มการเงิน"
    response = _post_raw(any_world, "officer", f"/tasks/{task_id}/complete",
                         json.dumps({"data": {**data, "total_allocated": float("nan")}}))
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == [{"field": "total_allocated", "message": NOT_FINITE_MESSAGE}]
    assert _stored(any_world) == before
    assert api.post(f"/tasks/{task_id}/complete", json={"data": data}).status_code == 200


def test_unreadable_values_outside_data_are_refused_before_they_are_looked_up(any_world: World) -> None:
    before = _stored(any_world)
    response = _post_raw(any_world, "officer", "/instances", '{"process": "budget\\ud800", "data": {}}')
    assert response.status_code == 422
    assert [d["field"] for d in response.get_json()["error"]["details"]] == ["process"]
    assert _stored(any_world) == before


def test_unreadable_data_posted_through_the_pages_is_refused_beside_the_field(any_world: World) -> None:
    """A page turns "1e400" into a number: infinity must not get past the engine either."""
    any_world.khanton.set_password("officer", "pass-1234")
    instance = drive.advance_to(any_world, drive.start(any_world, "school-establishment"), "study_current_state")
    task_id = instance["ready_tasks"][0]["id"]
    task = any_world.api("officer").get(f"/tasks/{task_id}").get_json()
    data = drive.data_for(task, drive.scenario("school-establishment")["steps"])
    values = forms_render.flatten(task["form"], data)
    page = Page(any_world.app.test_client())
    assert page.sign_in("officer").status_code == 302
    page.get(f"/tasks/{task_id}")
    before = _stored(any_world)
    response = page.post(f"/tasks/{task_id}", {**values, "distance_to_nearest_km": "1e400",
                                                "school_age_population": "1" + "0" * 30})
    assert response.status_code == 422, page.html
    assert re.search(r'id="f-distance_to_nearest_km-error">[^<]*NaN หรือ Infinity', page.html)
    assert re.search(r'id="f-school_age_population-error">ตัวเลขใหญ่เกิน', page.html)
    assert 'value="1e400"' in page.html
    assert _stored(any_world) == before


def _bpmn(name: str) -> str:
    xml = (ROOT / "processes" / "budget-transfer.bpmn").read_text(encoding="utf-8")
    process = '<bpmn:process id="budget-transfer" name="'
    return xml.replace(process, process + name, 1)


ENCODED = {  # a definition as other editors save it: (bytes, the process name they carry)
    "utf-16 with a BOM": (lambda x: x.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
                          "โอนงบ UTF-16"),
    "utf-16-be without a BOM": (lambda x: x.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16-be"),
                                "โอนงบ UTF-16BE"),
    "latin-1": (lambda x: x.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1", "xmlcharrefreplace"),
                "Virement budgétaire"),
    "tis-620": (lambda x: x.replace('encoding="UTF-8"', 'encoding="TIS-620"').encode("tis-620"),
                "โอนงบ TIS-620"),
}


@pytest.mark.parametrize("kind", ENCODED)
def test_bpmn_uploads_are_read_by_their_declared_encoding(any_world: World, kind: str) -> None:
    encode, name = ENCODED[kind]
    api = any_world.api("analyst")
    response = api.put("/processes/budget-transfer/bpmn", data=encode(_bpmn(name)),
                       content_type="application/xml")
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = api.get("/processes/budget-transfer/bpmn")
    assert stored.status_code == 200
    text = stored.get_data(as_text=True)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert f'name="{name}' in text
    assert any(p["name"].startswith(name) for p in api.get("/processes").get_json())


REFUSED_XML = {  # (bytes, what the refusal says, its line)
    "undecodable utf-8": (_bpmn("x").encode("utf-8").replace(b'name="x', b'name="\xff\xfe', 1), "UTF-8", 6),
    "unknown encoding": (_bpmn("x").replace('encoding="UTF-8"', 'encoding="KLINGON"').encode(), "KLINGON", 1),
    "utf-16 declared, utf-8 written": (_bpmn("x").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode(),
                                       "UTF-16", 1),
    "doctype in utf-16": (_bpmn("x").replace("<bpmn:definitions", '<!DOCTYPE x [<!ENTITY a "b">]>\n<bpmn:definitions',
                                             1).replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
                          "DOCTYPE", 2),
}


@pytest.mark.parametrize("kind", REFUSED_XML)
def test_bpmn_uploads_that_cannot_be_read_are_a_422_saying_why(any_world: World, kind: str) -> None:
    body, said, line = REFUSED_XML[kind]
    before = _stored(any_world)
    response = any_world.api("analyst").put("/processes/budget-transfer/bpmn", data=body,
                                            content_type="application/xml")
    assert response.status_code == 422, response.get_data(as_text=True)
    [detail] = response.get_json()["error"]["details"]
    assert said in detail["message"] and detail["line"] == line
    assert _stored(any_world) == before
