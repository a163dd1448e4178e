"""Fixtures for the officers' pages: the World with passwords, and a signed-in browser-like client."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.browser import WatchedBrowser
from tests.conftest import PASSWORD, ROOT, World

__all__ = ["PASSWORD"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Page:
    """A test client that keeps a session and sends the CSRF token the last page carried."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.html = ""

    def get(self, path: str, **kw: Any) -> Any:
        response = self.client.get(path, **kw)
        self.html = response.get_data(as_text=True)
        return response

    def token(self) -> str:
        match = CSRF.search(self.html)
        assert match, "the page carries no CSRF token"
        return match.group(1)

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True, **kw: Any) -> Any:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token())
        response = self.client.post(path, data=data, **kw)
        self.html = response.get_data(as_text=True)
        return response

    def sign_in(self, username: str, password: str = PASSWORD) -> Any:
        self.get("/login")
        return self.post("/login", {"username": username, "password": password})


@pytest.fixture
def web(world: World) -> World:
    world.set_passwords()
    return world


@pytest.fixture
def page_as(web: World) -> Iterator[Any]:
    def make(username: str | None = None) -> Page:
        page = Page(web.app.test_client())
        if username:
            response = page.sign_in(username)
            assert response.status_code == 302, page.html
        return page

    yield make


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/screenshots/ with `make screenshots` (KHANTON_SCREENSHOTS=docs), a
    temporary folder otherwise, so a test run leaves the tree as it found it."""
    if os.environ.get("KHANTON_SCREENSHOTS") == "docs":
        folder = ROOT / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser(chromium: Any) -> WatchedBrowser:
    """The session's chromium (tests/conftest.py), watching this module's pages."""
    return WatchedBrowser(chromium)


@pytest.fixture
def no_csp_violations(browser: WatchedBrowser) -> Iterator[None]:
    """Every page of the test works under the CSP and finds all it asks for, or the test fails (modules
    ask for it with `pytestmark = pytest.mark.usefixtures("no_csp_violations")`)."""
    browser.csp_violations.clear()
    browser.missing.clear()
    yield
    assert browser.csp_violations == [], "the page broke the Content-Security-Policy"
    assert browser.missing == [], "a page asked for something the app does not serve"
