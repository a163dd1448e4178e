"""What a client of the API needs: one procedure with its versions and start form, times it can
read with their offset, and a 400 naming the parameter for a query it got wrong."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jsonschema
from sqlalchemy import select

from engine.form_samples import sample
from engine.models import ProcessVersion
from tests.conftest import ROOT, World
from tests.drive import LANE_USER, data_for, scenario, start, user_for

ISO_WITH_OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00")


def test_one_procedure_with_its_versions_and_start_form(world: World) -> None:
    api = world.api("officer")
    response = api.get("/processes/budget-transfer")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"key", "name", "latest_version", "versions", "start_form"}
    assert body["key"] == "budget-transfer" and body["latest_version"] == 1
    assert body["name"] == next(p["name"] for p in api.get("/processes").get_json() if p["key"] == "budget-transfer")
    [version] = body["versions"]
    assert version["version"] == 1 and version["published_by"] == "system"
    assert ISO_WITH_OFFSET.fullmatch(version["published_at"])
    on_disk = json.loads((ROOT / "forms/budget-transfer/start.json").read_text(encoding="utf-8"))
    assert body["start_form"]["schema"]["properties"] == on_disk["properties"]
    # A client can build start data from the schema alone, and the procedure starts with it.
    data = sample(body["start_form"]["schema"])
    jsonschema.validate(data, body["start_form"]["schema"])
    assert api.post("/instances", json={"process": "budget-transfer", "data": data}).status_code == 201


def test_a_procedure_without_a_start_form_says_null_and_new_versions_are_listed(world: World) -> None:
    body = world.api("officer").get("/processes/monitor-and-report").get_json()
    assert body["start_form"] == {"schema": None}
    xml = world.api("officer").get("/processes/budget-transfer/bpmn").get_data()
    changed = xml.replace(b"</bpmn:definitions>", b"<!-- v2 --></bpmn:definitions>")
    assert world.api("analyst").put("/processes/budget-transfer/bpmn", data=changed).status_code == 201
    body = world.api("officer").get("/processes/budget-transfer").get_json()
    assert body["latest_version"] == 2 and [v["version"] for v in body["versions"]] == [1, 2]
    assert body["versions"][1]["published_by"] == "analyst"


def test_unknown_procedure_and_missing_token(world: World) -> None:
    missing = world.api("officer").get("/processes/no-such-process")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert "no-such-process" in missing.get_json()["error"]["message"]
    assert world.app.test_client().get("/api/v1/processes/budget-transfer").status_code == 401


def _times(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every field named like a time (`at`, `…_at`) anywhere in a JSON answer."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if (key == "at" or key.endswith("_at")) and item is not None:
                found.append((f"{path}.{key}", item))
            found += _times(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _times(item, f"{path}[{i}]")
    return found


def test_every_time_in_json_is_iso_8601_with_its_offset(any_world: World) -> None:
    """On SQLite (naive datetimes, kept in UTC) and PostgreSQL alike."""
    before = datetime.now(UTC) - timedelta(seconds=2)
    instance = start(any_world, "budget-transfer")
    task = instance["ready_tasks"][0]
    api = any_world.api(LANE_USER[task["lane"]])
    detail = api.get(f"/tasks/{task['id']}").get_json()
    completed = api.post(f"/tasks/{task['id']}/complete",
                         json={"data": data_for(detail, scenario("budget-transfer")["steps"])})
    assert completed.status_code == 200
    supervisor = any_world.api("supervisor")
    answers = {
        "POST /instances": instance, "POST complete": completed.get_json(),
        "GET /processes": supervisor.get("/processes").get_json(),
        "GET /processes/{key}": supervisor.get("/processes/budget-transfer").get_json(),
        "GET /instances": supervisor.get("/instances").get_json(),
        "GET /instances/{id}": supervisor.get(f"/instances/{instance['id']}").get_json(),
        "GET /instances/{id}/timeline": supervisor.get(f"/instances/{instance['id']}/timeline").get_json(),
        "GET /tasks": any_world.api(user_for(completed.get_json()["ready_tasks"][0])).get("/tasks").get_json(),
        "GET /tasks/{id}": api.get(f"/tasks/{task['id']}").get_json(),
    }
    # Versions were published when the world was made (perhaps long before): compared with what is stored.
    with any_world.khanton.db.transaction(read_only=True) as session:
        published = {(at if at.tzinfo else at.replace(tzinfo=UTC)).replace(microsecond=0)
                     for at in session.scalars(select(ProcessVersion.published_at))}
    seen = set()
    for what, answer in answers.items():
        times = _times(answer)
        assert times, f"{what} has no times"
        for path, value in times:
            assert isinstance(value, str) and ISO_WITH_OFFSET.fullmatch(value), f"{what} {path} = {value!r}"
            moment = datetime.fromisoformat(value)
            if path.endswith("published_at"):
                assert moment.replace(microsecond=0) in published, f"{what} {path} = {value}"
            elif path.endswith("due_at") or path.endswith("answer_by"):
                assert moment.tzinfo is not None  # a planned date (a scenario's answer-by day may be past)
            else:
                assert before <= moment <= datetime.now(UTC) + timedelta(seconds=2), f"{what} {path} = {value}"
            seen.add(path.rsplit(".", 1)[-1])
    assert {"at", "started_at", "updated_at", "created_at", "published_at", "completed_at"} <= seen


def test_times_and_dates_that_reach_json_unconverted_are_still_iso(world: World) -> None:
    """The app's JSON encoder: what an endpoint hands over as a datetime or date (Flask would write
    'Wed, 25 Nov 2026 02:30:00 GMT')."""
    encoded = json.loads(world.app.json.dumps({
        "naive_utc": datetime(2026, 11, 25, 2, 30), "aware": datetime(2026, 11, 25, 2, 30, tzinfo=UTC),
        "day": date(2026, 11, 25)}))
    assert encoded == {"naive_utc": "2026-11-25T09:30:00+07:00", "aware": "2026-11-25T09:30:00+07:00",
                       "day": "2026-11-25"}


BAD_QUERIES = [
    ("/instances?status=bogus", "status"), ("/instances?status=RUNNING", "status"),
    ("/instances?status=running%00", "status"), ("/instances?limit=-1", "limit"), ("/instances?limit=0", "limit"),
    ("/instances?limit=501", "limit"), ("/instances?limit=1.5", "limit"), ("/instances?limit=1e3", "limit"),
    ("/instances?limit=%D9%A5", "limit"), ("/instances?limit=%205", "limit"), ("/instances?offset=-1", "offset"),
    ("/instances?offset=abc", "offset"), ("/instances?fiscal_year=2570.0", "fiscal_year"),
    ("/tasks?limit=-5", "limit"), ("/tasks?limit=0", "limit"), ("/tasks?offset=-1", "offset"),
    ("/tasks?offset=0x10", "offset"), ("/processes/budget-transfer/bpmn?version=0", "version"),
    ("/processes/budget-transfer/bpmn?version=-1", "version"),
]


def test_a_wrong_query_parameter_is_a_400_that_names_it(world: World) -> None:
    api = world.api("supervisor")
    for path, name in BAD_QUERIES:
        response = api.get(path)
        assert response.status_code == 400, path
        error = response.get_json()["error"]
        assert error["code"] == "bad_request" and name in error["message"], (path, error)
    for path in ("/instances?status=running&limit=500&offset=0", "/instances?status=", "/tasks?limit=1&offset=3",
                 "/instances?fiscal_year=2570", "/processes/budget-transfer/bpmn?version=1"):
        assert api.get(path).status_code == 200, path


def test_openapi_documents_the_procedure_its_parameters_and_times(world: World) -> None:
    spec = world.app.test_client().get("/api/v1/openapi.json").get_json()
    detail = spec["paths"]["/processes/{key}"]["get"]
    assert set(detail["responses"]) == {"200", "401", "404"}
    schemas = spec["components"]["schemas"]
    assert "start_form" in schemas["ProcessDetail"]["allOf"][1]["properties"]
    params = {p["name"]: p["schema"] for p in spec["paths"]["/instances"]["get"]["parameters"]}
    assert params["status"]["enum"] == ["running", "completed", "rejected", "terminated", "suspended", "error"]
    assert params["limit"]["minimum"] == 1 and params["limit"]["maximum"] == 500 and params["offset"]["minimum"] == 0
    assert schemas["Event"]["properties"]["at"]["format"] == "date-time"
    # Every documented answer of /processes/{key} holds for a real one.
    body = world.api("officer").get("/processes/budget-transfer").get_json()
    assert set(schemas["Process"]["required"]) | {"start_form"} <= set(body)
