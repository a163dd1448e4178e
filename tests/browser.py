"""Debian's chromium driven by Playwright, for tests and scripts (Playwright cannot download one here)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_missing() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not shutil.which(CHROMIUM):
        return f"{CHROMIUM} is not installed (make test installs Debian's chromium)"
    return None


@contextmanager
def launched() -> Iterator[Any]:
    """Chromium for the block (tests/conftest.py's `chromium`: one for the session); skips where it is missing."""
    if reason := chromium_missing():
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serving(app: Any, **options: Any) -> Iterator[str]:
    """The app on a real HTTP server (a free port, a thread) for the block: its base address."""
    from werkzeug.serving import make_server

    http = make_server("127.0.0.1", 0, app, threaded=True, **options)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()


class WatchedBrowser:
    """The browser, whose every context reports Content-Security-Policy violations (Chromium logs
    each refused inline script, handler or style to the console) and any resource a page asked for
    that the app did not serve (a stylesheet, a font, the icon)."""

    def __init__(self, chromium: Any) -> None:
        self.chromium = chromium
        self.csp_violations: list[str] = []
        self.missing: list[str] = []

    def new_context(self, **options: Any) -> Any:
        context = self.chromium.new_context(**options)
        context.on("console", self._console)
        context.on("response", self._response)
        return context

    def _response(self, response: Any) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            self.missing.append(f"{response.status} {response.url}")

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(f"{message.location.get('url')}: {message.text}")


def sign_in(page: Any, base: str, username: str, password: str = PASSWORD, wait: bool = True) -> None:
    """Sign in through the sign-in page as a person does; by default wait for their inbox."""
    page.goto(base + "/login")
    page.get_by_label("ชื่อผู้ใช้").fill(username)
    page.get_by_label("รหัสผ่าน").fill(password)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    if wait:
        page.wait_for_url(base + "/")


def signed_in_page(browser: Any, base: str, username: str, width: int = 1280, height: int = 900,
                   password: str = PASSWORD) -> Any:
    """A new page in its own browser context (its own cookies), signed in as `username`."""
    page = browser.new_context(viewport={"width": width, "height": height}, locale="th-TH").new_page()
    sign_in(page, base, username, password)
    return page
