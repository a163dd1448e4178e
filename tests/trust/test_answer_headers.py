"""The headers of every kind of answer: HTML pages (signed in and out), JSON, CSV, Excel, PDF, the
BPMN download, static files, fonts, attachments and errors of both the pages and the API. Each forbids
inline script and framing, turns off sniffing, keeps the address inside the office, names no server
software or version, and no shared cache may keep what belongs to one person.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests import battery
from tests.conftest import WorldTemplate
from tests.drive import SIGNED_PDF
from tests.web.conftest import Page

from .hostile_requests import module_world, signed_in

SOFTWARE = ("werkzeug", "python", "flask", "gunicorn", "sqlalchemy", "postgres", "sqlite")
SHARED = ("/static/", "/fonts/", "/vendor/")  # the same bytes for everyone: a cache may keep them


@pytest.fixture(scope="module")
def answers(world_template: WorldTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    world = module_world(world_template, tmp_path_factory, "headers")
    api = world.api("officer")
    started = api.post("/instances", {"process": "budget-transfer", "data": {"fiscal_year": 2570,
                                                                             "title": "หัวข้อ"}}).json
    task, instance = started["ready_tasks"][0]["id"], started["id"]
    attachment = api.client.post(f"/api/v1/tasks/{task}/attachments", headers=api.headers,
                                 data={"file": (io.BytesIO(SIGNED_PDF), "หนังสือ.pdf")}).json["id"]
    officer, supervisor, analyst = (signed_in(world, name) for name in ("officer", "supervisor", "analyst"))
    anonymous = Page(world.app.test_client()).client
    calls: dict[str, Callable[[], Any]] = {
        "sign-in page": lambda: anonymous.get("/login"),
        "redirect to sign in": lambda: anonymous.get("/instances"),
        "inbox": lambda: officer.client.get("/"),
        "instance page": lambda: officer.client.get(f"/instances/{instance}"),
        "task page": lambda: officer.client.get(f"/tasks/{task}"),
        "diagram JSON": lambda: officer.client.get(f"/instances/{instance}/diagram.json"),
        "record PDF": lambda: officer.client.get(f"/instances/{instance}/record.pdf"),
        "attachment (page)": lambda: officer.client.get(f"/attachments/{attachment}"),
        "monitor": lambda: supervisor.client.get("/monitor"),
        "CSV export": lambda: supervisor.client.get("/monitor?format=csv"),
        "Excel export": lambda: supervisor.client.get("/monitor?format=xlsx"),
        "dashboard": lambda: supervisor.client.get("/monitor/dashboard"),
        "BPMN download": lambda: analyst.client.get("/processes/budget-transfer/versions/1/download"),
        "page 404": lambda: officer.client.get("/no-such-page"),
        "page 405": lambda: officer.client.delete("/"),
        "page 413": lambda: officer.client.post(f"/tasks/{task}/attachments", data={"file": (
            io.BytesIO(b"0" * (7 * 1024 * 1024)), "x.pdf")}),
        "CSRF refusal": lambda: officer.client.post("/logout"),
        "static script": lambda: anonymous.get("/static/js/app.js"),
        "font": lambda: anonymous.get("/fonts/sarabun-thai-400-normal.woff2"),
        "API JSON": lambda: api.get("/tasks"),
        "API attachment": lambda: api.get(f"/attachments/{attachment}"),
        "API XML": lambda: api.get("/processes/budget-transfer/bpmn"),
        "API 401": lambda: anonymous.get("/api/v1/tasks"),
        "API 404": lambda: api.get("/instances/nope"),
        "API 422": lambda: api.post("/instances", {"process": "budget-transfer", "data": {"fiscal_year": "x"}}),
        "OpenAPI": lambda: anonymous.get("/api/v1/openapi.json"),
    }
    got = {}
    for what, call in calls.items():
        response = call()
        response.get_data()  # read it all now: a streamed answer (the exports) holds its context until read
        response.close()
        got[what] = response
    yield got
    world.close()


def test_every_kind_of_answer_carries_the_security_headers(answers: dict[str, Any]) -> None:
    assert answers["record PDF"].status_code == 200 and answers["CSV export"].status_code == 200
    assert answers["Excel export"].status_code == 200 and answers["BPMN download"].status_code == 200
    assert answers["page 413"].status_code == 413 and answers["API 422"].status_code == 422
    for what, response in answers.items():
        headers = response.headers
        policy = headers.get("Content-Security-Policy", "")
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
        script = directives.get("script-src", directives.get("default-src"))
        assert script in (["'self'"], ["'none'"]) and "'unsafe-inline'" not in policy, f"{what}: {policy}"
        assert directives.get("frame-ancestors") == ["'none'"] or "sandbox" in directives, f"{what}: {policy}"
        assert headers.get("X-Frame-Options") == "DENY", what
        assert headers.get("X-Content-Type-Options") == "nosniff", what
        assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), what
        named = " ".join(f"{k}: {v}" for k, v in headers.items() if k.lower() in ("server", "x-powered-by"))
        assert not any(word in named.lower() for word in SOFTWARE), f"{what}: {named}"
        battery.add(battery.CASES)


def test_no_shared_cache_keeps_a_personal_answer(answers: dict[str, Any]) -> None:
    for what, response in answers.items():
        path = response.request.path
        cache = response.headers.get("Cache-Control", "")
        if path.startswith(SHARED):
            assert "private" not in cache, f"{what}: a shared file need not be private ({cache})"
            continue
        assert "private" in cache or "no-store" in cache, f"{what} ({path}): Cache-Control is {cache!r}"
        battery.add(battery.CASES)
