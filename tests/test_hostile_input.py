"""Hostile and malformed input through the HTTP API: a clear refusal in the API's shape, nothing stored."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.models import Event, Instance
from tests.conftest import World


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
