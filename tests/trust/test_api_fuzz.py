"""Every /api/v1 operation fuzzed from its own OpenAPI description (schemathesis), in-process against the
WSGI app: with a real token, as three kinds of caller, and without one. No answer is ever a 5xx, and every
answer is one the description documents, in the documented content type and shape.

Bounded and reproducible: a fixed number of cases per operation, hypothesis derandomized, no example
database, so CI sees the same cases every run (about 25 s on a shared 2-core machine).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests import battery
from tests.conftest import World, WorldTemplate
from web.api.openapi import OPENAPI

SCHEMA = schemathesis.openapi.from_dict(OPENAPI)
CALLERS = ("officer", "school", "analyst", "supervisor")  # a plan officer, a school, the analyst, the admin
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BOUNDED = settings(max_examples=12, derandomize=True, database=None, deadline=None,
                   suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzzed(world_template: WorldTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world for the whole run: what one case stores, the next may meet (instances, drafts, versions)."""
    world = World.copied(world_template, Path(tmp_path_factory.mktemp("fuzz")) / "khanton.db")
    world.khanton.start("budget-transfer", {"fiscal_year": 2570, "title": "ตั้งต้นให้ fuzz"},
                        world.khanton.actor("officer"))
    yield world
    world.close()


@SCHEMA.parametrize()
@SCHEMA.given(caller=st.sampled_from(CALLERS))
@BOUNDED
def test_every_operation_answers_as_documented_with_a_token(case: Any, caller: str, fuzzed: World) -> None:
    headers = {"Authorization": f"Bearer {fuzzed.tokens[caller]}"}
    case.call_and_validate(app=fuzzed.app, base_url="http://localhost/api/v1", headers=headers, checks=CHECKS)
    battery.add(battery.CASES)


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation, path parameters filled with a plausible value."""
    found = []
    for path, item in OPENAPI["paths"].items():
        filled = re.sub(r"\{[a-z_]+\}", "1", path)
        found += [(method.upper(), filled) for method in item if method in ("get", "post", "put", "delete")]
    return found


def test_every_operation_refuses_a_missing_or_forged_token(fuzzed: World) -> None:
    client = fuzzed.app.test_client()
    forged = ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer not-a-real-token"},
              {"Authorization": "Basic b2ZmaWNlcjpwYXNzLTEyMzQ="},
              {"Authorization": f"Token {fuzzed.tokens['officer']}"},
              {"Authorization": f"Bearer {fuzzed.tokens['officer']}x"})
    operations = _operations()
    assert len(operations) >= 30
    for method, path in operations:
        for headers in forged:
            response = client.open(f"/api/v1{path}", method=method, headers=headers, json={})
            battery.add(battery.CASES)
            if path == "/openapi.json":
                assert response.status_code == 200
                continue
            assert response.status_code == 401, (method, path, headers, response.status_code)
            assert response.json["error"]["code"] == "unauthorized" and "โทเค็น" in response.json["error"]["message"]
            battery.add(battery.REFUSED)
