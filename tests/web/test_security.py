"""Sign-in and page security through HTTP: where next= may lead, the headers every answer carries,
templates without inline script, the session cookie's flags, and sign-out ending the session on
the server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import ROOT, World

from .conftest import PASSWORD, Page

# Known open-redirect forms: each would leave the site in some browser (tabs and newlines are
# dropped, backslashes read as slashes, leading spaces and control characters stripped).
OFF_SITE = [
    "/\t/evil.example", "/%09/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/%0d%0a/evil.example",
    "//evil.example", "///evil.example", "////evil.example/x", "/\\evil.example", "\\\\evil.example",
    "/\\/evil.example", "\\/evil.example", " //evil.example", "\t//evil.example", "\x00//evil.example",
    "//evil.example@good.example", "https://evil.example", "http:evil.example", "https:/evil.example",
    "https:\\\\evil.example", "HTTPS://evil.example", "//evil%2Eexample", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "evil.example", "/\u3000/evil.example",
    "\u2028//evil.example", "/\x0b/evil.example", "/\x7f/evil.example",
]


def _browser_target(location: str) -> str:
    """What a browser makes of a Location: tabs and newlines dropped, backslashes read as slashes."""
    return re.sub(r"[\t\r\n]", "", location).strip("\x00 ").replace("\\", "/")


def _assert_local(location: str, payload: str) -> None:
    target = _browser_target(location)
    assert target.startswith("/") and not target.startswith("//") and ":" not in target.split("/")[0], (
        f"next={payload!r} sent the browser to {location!r}")


def test_sign_in_never_redirects_off_site(web: World, page_as: Any) -> None:
    for payload in OFF_SITE:
        page: Page = page_as()
        page.get("/login", query_string={"next": payload})
        response = page.post("/login", {"username": "officer", "password": PASSWORD, "next": payload})
        assert response.status_code == 302
        _assert_local(response.headers["Location"], payload)


def test_the_address_the_login_page_was_given_rides_through_the_form(web: World, page_as: Any) -> None:
    page: Page = page_as()
    # As a browser sends it: the tab arrives decoded, and the page carries it into its form.
    assert page.get("/login?next=/%09/evil.example").status_code == 200
    carried = re.findall(r'name="next" value="([^"]*)"', page.html)[-1]
    assert carried == "/\t/evil.example"
    response = page.post("/login", {"username": "officer", "password": PASSWORD, "next": carried})
    assert response.headers["Location"] == "/"


def test_a_local_next_is_kept_with_its_query(web: World, page_as: Any) -> None:
    page: Page = page_as()
    page.get("/instances")  # signed out: sent to sign in, with where it was going
    assert "/login" in page.client.get("/instances").headers["Location"]
    page.get("/login")
    response = page.post("/login", {"username": "officer", "password": PASSWORD,
                                    "next": "/instances?status=running&process=budget-transfer"})
    assert response.headers["Location"] == "/instances?status=running&process=budget-transfer"


def test_switching_language_never_redirects_off_site(web: World, page_as: Any) -> None:
    page: Page = page_as("officer")
    for payload in OFF_SITE:
        page.get("/")
        response = page.post("/language", {"lang": "en", "next": payload})
        assert response.status_code == 302
        _assert_local(response.headers["Location"], payload)


SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options")


def _assert_secured(response: Any, what: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives.get("script-src") == ["'self'"], f"{what}: script-src is {directives.get('script-src')}"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, what
    assert directives.get("frame-ancestors") == ["'none'"], what
    assert directives.get("object-src") == ["'none'"], what
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what


def test_every_kind_of_answer_carries_the_security_headers(web: World, page_as: Any) -> None:
    anonymous = page_as().client
    page: Page = page_as("officer")
    api = web.api("officer")
    answers = {
        "sign-in page": anonymous.get("/login"),
        "redirect to sign in": anonymous.get("/"),
        "inbox": page.get("/"),
        "task list page": page.get("/instances"),
        "unknown page": page.get("/no-such-page"),
        "wrong method": page.client.delete("/"),
        "refused form (CSRF)": anonymous.post("/login", data={"username": "x", "password": "y"}),
        "static script": anonymous.get("/static/js/app.js"),
        "static style": anonymous.get("/static/css/fonts.css"),
        "font": anonymous.get("/fonts/sarabun-thai-400-normal.woff2"),
        "API list": api.get("/processes"),
        "API without token": anonymous.get("/api/v1/tasks"),
        "API unknown": api.get("/instances/nope"),
        "API bad query": api.get("/tasks?limit=abc"),
        "OpenAPI": anonymous.get("/api/v1/openapi.json"),
    }
    assert answers["static script"].status_code == 200 and answers["API without token"].status_code == 401
    for what, response in answers.items():
        _assert_secured(response, what)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE = re.compile(r"<style\b|<[^>]*\sstyle\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def test_no_template_has_inline_script_event_handlers_or_inline_style() -> None:
    templates = sorted((ROOT / "web" / "templates").rglob("*.html"))
    assert len(templates) >= 5
    for template in templates:
        text = template.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, STYLE, JS_URL):
            found = pattern.search(text)
            assert found is None, f"{template.relative_to(ROOT)}: {found.group(0)[:80]!r} (the CSP forbids it)"


def test_rendered_pages_have_no_inline_script_or_style(web: World, page_as: Any) -> None:
    """Forms are drawn from JSON Schema in Python too: check what the pages actually send."""
    page: Page = page_as("officer")
    page.get("/processes/budget-transfer")
    started = page.post("/processes/budget-transfer", {"fiscal_year": "2570", "title": "ทดสอบ CSP"})
    task_url = started.headers["Location"]
    instance_id = web.khanton.instances(web.khanton.actor("officer"))[0]["id"]
    for path in ("/login", "/", task_url, f"/instances/{instance_id}", "/instances", "/processes",
                 "/processes/budget-transfer", "/delegations"):
        html = page.get(path).get_data(as_text=True) if path != "/login" else page_as().get(path).get_data(
            as_text=True)
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, STYLE, JS_URL):
            found = pattern.search(html)
            assert found is None, f"{path}: {found.group(0)[:80]!r}"


def _session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie was set"
    return cookies[-1]


def _sign_in_over(web: World, base_url: str) -> str:
    page = Page(web.app.test_client())
    page.get("/login", base_url=base_url)
    # Over HTTPS, Flask-WTF also wants the Referer of the site's own page.
    response = page.post("/login", {"username": "officer", "password": PASSWORD}, base_url=base_url,
                         headers={"Referer": f"{base_url}/login"})
    assert response.status_code == 302
    return _session_cookie(response)


def test_session_cookie_is_secure_over_https_and_never_readable_by_scripts(web: World) -> None:
    over_https = _sign_in_over(web, "https://khanton.example")
    assert "; Secure" in over_https and "HttpOnly" in over_https and "SameSite=Lax" in over_https
    over_http = _sign_in_over(web, "http://localhost")
    assert "; Secure" not in over_http and "HttpOnly" in over_http  # plain HTTP on an office LAN still works


def test_secure_cookies_setting_marks_the_cookie_secure_behind_a_tls_proxy(web: World) -> None:
    web.app.config["SESSION_COOKIE_SECURE"] = True  # what KHANTON_SECURE_COOKIES=true sets at start-up
    assert "; Secure" in _sign_in_over(web, "http://localhost")


def test_secure_cookies_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    from web import create_app

    monkeypatch.setenv("KHANTON_SECURE_COOKIES", "true")
    assert create_app({"DATABASE_URL": sqlite_url}).config["SESSION_COOKIE_SECURE"] is True
    for off in ("false", "no", "0", ""):
        monkeypatch.setenv("KHANTON_SECURE_COOKIES", off)
        assert create_app({"DATABASE_URL": sqlite_url}).config["SESSION_COOKIE_SECURE"] is False, off


def _copy_of_cookie(web: World, page: Page) -> Page:
    cookie = page.client.get_cookie("session")
    assert cookie is not None
    thief = Page(web.app.test_client())
    thief.client.set_cookie("session", cookie.value)
    return thief


def test_signing_out_ends_the_session_on_the_server(web: World, page_as: Any) -> None:
    page: Page = page_as("officer")
    thief = _copy_of_cookie(web, page)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    page.get("/")
    assert page.post("/logout").status_code == 302
    replay = thief.get("/")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    assert thief.get("/instances").status_code == 302
    # Signing in again opens a new session; the old copy stays dead.
    again = page_as("officer")
    assert again.get("/").status_code == 200 and thief.get("/").status_code == 302


def test_a_new_password_ends_every_session_of_that_person(web: World, page_as: Any) -> None:
    first, second = page_as("officer"), page_as("officer")
    web.khanton.set_password("officer", "another-pass-5678")
    assert first.get("/").status_code == 302 and second.get("/").status_code == 302
    assert page_as("committee").get("/").status_code == 200  # others are not affected


def test_a_forged_session_key_signs_nobody_in(web: World) -> None:
    forger = Page(web.app.test_client())
    with forger.client.session_transaction() as session:
        session["_user_id"] = "officer"  # what the cookie held before sessions lived on the server
        session["_fresh"] = True
    assert forger.get("/").status_code == 302
    with forger.client.session_transaction() as session:
        session["_user_id"] = "x" * 100_000
    assert forger.get("/").status_code == 302


def test_a_session_idle_longer_than_its_lifetime_ends_on_the_server_too(web: World, page_as: Any) -> None:
    """Whatever the cookie says (a copy of it, its own clock reset): the server's last use decides."""
    from sqlalchemy import update

    from engine.models import WebSession

    page: Page = page_as("officer")
    assert page.get("/").status_code == 200
    idle = web.app.config["SESSION_IDLE"]
    with web.khanton.db.transaction() as session:
        session.execute(update(WebSession).values(created_at=datetime.now(UTC) - idle * 5,
                                                  seen_at=datetime.now(UTC) - idle + timedelta(minutes=2)))
    assert page.get("/").status_code == 200  # signed in long ago, used within the idle time
    with web.khanton.db.transaction() as session:
        session.execute(update(WebSession).values(seen_at=datetime.now(UTC) - idle - timedelta(minutes=1)))
    expired = page.get("/")
    assert expired.status_code == 302 and "/login" in expired.headers["Location"]
    assert "หมดเวลาการใช้งาน" in page.get(expired.headers["Location"]).get_data(as_text=True)


def test_ended_sessions_do_not_pile_up(web: World, page_as: Any) -> None:
    from sqlalchemy import func, select

    from engine.models import WebSession

    for _ in range(3):
        page: Page = page_as("officer")
        page.get("/")
        page.post("/logout")
    page_as("officer")
    with web.khanton.db.transaction(read_only=True) as session:
        rows = session.execute(select(WebSession.ended_at, func.count()).group_by(WebSession.ended_at)).all()
    assert [(ended, count) for ended, count in rows] == [(None, 1)]


def test_page_addresses_with_ids_no_row_can_have_are_unknown_on_both_databases(any_world: World) -> None:
    """A NUL byte in an id reached PostgreSQL, which answers it with an error: the page was a 500."""

    any_world.khanton.set_password("officer", PASSWORD)
    page = Page(any_world.app.test_client())
    assert page.sign_in("officer").status_code == 302
    for path in ("/tasks/%00", "/instances/a%00b", "/attachments/%00", "/processes/%00", "/tasks/" + "x" * 300):
        assert page.get(path).status_code == 404, path
