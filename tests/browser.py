"""Debian's chromium driven by Playwright, for tests and scripts (Playwright cannot download one here)."""

from __future__ import annotations

import shutil
from typing import Any

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
