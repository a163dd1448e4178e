"""Cross-site requests and open redirects.

CSRF: every POST route a session may call (the url_map, not a hand-kept list), as an officer, the
analyst and the admin, sent without a token, with a token from another person's session, as JSON
without the header the pages' scripts send, and with another session's header: each refused with 400
and a Thai message, and nothing in the database changed. Every form on every page a role can reach
posts to one of those routes and carries its token.

Redirects: the language switch, by next= and by the Referer it falls back to, stays on this site for
every known open-redirect form (tests/web/test_security.py OFF_SITE, whose tests cover sign-in's next=).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from engine.models import Base
from tests import battery
from tests.conftest import PASSWORD, World, WorldTemplate
from tests.drive import SIGNED_PDF
from tests.web.test_security import OFF_SITE, _assert_local
from web.api.openapi import OPENAPI

from .hostile_requests import crawl, elements, module_world, signed_in

REFUSAL = "แบบฟอร์มนี้หมดอายุหรือไม่ได้ส่งจากหน้าของระบบ"
CHANGING_TABLES_EXCLUDED = {"web_sessions"}  # a request's own session row records that it was seen
ROLES = ("officer", "analyst", "xadmin")


@pytest.fixture(scope="module")
def csrf_world(world_template: WorldTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    world = module_world(world_template, tmp_path_factory, "csrf")
    world.khanton.add_user("xadmin", ["admin"], [], password=PASSWORD, display_name="ผู้ดูแล")
    officer = world.api("officer")
    started = officer.post("/instances", {"process": "budget-transfer", "data": {"fiscal_year": 2570}}).json
    task = started["ready_tasks"][0]["id"]

    attachment = officer.client.post(f"/api/v1/tasks/{task}/attachments", headers=officer.headers,
                                     data={"file": (io.BytesIO(SIGNED_PDF), "หนังสือ.pdf")}).json["id"]
    values = {"task_id": task, "instance_id": started["id"], "attachment_id": attachment, "key": "budget-transfer",
              "username": "officer", "token_id": "1", "delegation_id": "1", "day": "2026-12-28",
              "action": "suspend", "task_spec": "request_school_reports", "draft_id": "1", "number": "1"}
    yield {"world": world, "values": values}
    world.close()


def _fingerprint(world: World) -> str:
    """A digest of every row of every table but the sessions': equal before and after means nothing changed."""
    digest = hashlib.sha256()
    with world.khanton.db.transaction(read_only=True) as session:
        for name, table in sorted(Base.metadata.tables.items()):
            if name not in CHANGING_TABLES_EXCLUDED:
                for row in session.execute(select(table)).all():
                    digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _post_routes(world: World, values: dict[str, str]) -> list[str]:
    """Every page route that takes POST, with real ids in its placeholders."""
    paths = []
    for rule in world.app.url_map.iter_rules():
        if "POST" in (rule.methods or set()) and not rule.rule.startswith("/api/"):
            paths.append(re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: values[m.group(1)], rule.rule))
    return sorted(paths)


def _api_posts(values: dict[str, str]) -> list[str]:
    ids = {"id": values["instance_id"], "key": values["key"], "draft_id": "1", "task_spec": values["task_spec"]}
    return [f"/api/v1{re.sub(r'{([a-z_]+)}', lambda m: ids[m.group(1)], path)}"
            for path, item in OPENAPI["paths"].items() if "post" in item]


def test_every_post_route_refuses_a_missing_or_foreign_token_and_changes_nothing(csrf_world: dict[str, Any]) -> None:
    world: World = csrf_world["world"]
    routes = _post_routes(world, csrf_world["values"])
    assert len(routes) >= 30 and "/login" in routes and "/processes/budget-transfer/edit/publish" in routes
    stranger = signed_in(world, "committee")
    stranger.get("/")
    foreign = stranger.token()
    before = _fingerprint(world)
    refused = 0
    for role in ROLES:
        page = signed_in(world, role)
        page.get("/")
        for path in routes:
            attempts = (
                {"data": {"name": "x", "reason": "x", "note": "x"}},
                {"data": {"name": "x", "csrf_token": foreign}},
                {"json": {"xml": "<x/>", "note": "x"}},
                {"json": {"xml": "<x/>"}, "headers": {"X-CSRFToken": foreign}},
            )
            for attempt in attempts:
                response = page.client.post(path, **attempt)
                body = response.get_data(as_text=True)
                assert response.status_code == 400 and REFUSAL in body, (role, path, attempt, response.status_code)
                refused += 1
        # The API never takes the session cookie for a token: a page's session cannot be borrowed there.
        for path in _api_posts(csrf_world["values"]):
            response = page.client.post(path, json={"process": "budget-transfer", "data": {"fiscal_year": 2570}})
            assert response.status_code == 401, (role, path, response.status_code)
            refused += 1
        assert page.get("/").status_code == 200  # still signed in: a refused form ends nothing
    assert _fingerprint(world) == before, "a refused request changed the database"
    battery.add(battery.CASES, refused)
    battery.add(battery.REFUSED, refused)


def test_every_form_on_every_page_carries_its_token_and_posts_to_a_guarded_route(csrf_world: dict[str, Any]) -> None:
    world: World = csrf_world["world"]
    adapter = world.app.url_map.bind("localhost")
    forms = 0
    for role in ("officer", "school", "analyst", "supervisor", "xadmin"):
        page = signed_in(world, role)
        for address, response in crawl(page, "/", limit=30).items():
            if response.mimetype != "text/html":
                continue
            found = elements(response.get_data(as_text=True))
            for index, (tag, attrs) in enumerate(found):
                if tag != "form" or attrs.get("method", "get").lower() != "post":
                    continue
                action = attrs.get("action") or address.split("?")[0]
                adapter.match(action.split("?")[0], method="POST")  # a route that takes POST, so CSRF-guarded
                following = found[index + 1:]
                end = next((i for i, (t, _) in enumerate(following) if t == "form"), len(following))
                tokens = [a for t, a in following[:end] if t == "input" and a.get("name") == "csrf_token"]
                assert tokens and tokens[0].get("value"), f"{role} {address}: a form to {action} without its token"
                forms += 1
    battery.add(battery.CASES, forms)
    assert forms >= 15, forms


def test_no_parameter_sends_a_person_off_site(csrf_world: dict[str, Any]) -> None:
    """Sign-in's next= is tests/web/test_security.py's; here the language switch, by next= and by the
    Referer it falls back to (as sent by this site, by a hostile site, and bare)."""
    world: World = csrf_world["world"]
    page = signed_in(world, "officer")
    cases = 0
    for payload in OFF_SITE:
        for form, headers in (({"lang": "th", "next": payload}, {}),
                              ({"lang": "th"}, {"Referer": payload}),
                              ({"lang": "th"}, {"Referer": "http://localhost" + payload}),
                              ({"lang": "en"}, {"Referer": "https://evil.example/" + payload})):
            if any(ch in value for value in headers.values() for ch in "\r\n"):
                continue  # no client can send a newline inside a header
            page.get("/")
            switched = page.post("/language", form, headers=headers)
            assert switched.status_code == 302
            _assert_local(switched.headers["Location"], f"{form} {headers}")
            cases += 1
    battery.add(battery.CASES, cases)
