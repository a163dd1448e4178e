"""Someone whose password an admin reset must set their own before anything else (web/admin/account.py);
the page that asks for it is in Thai, so it needs the app's Thai font. Found by the access matrix: the
font files answered that person with a redirect to the password page, so the page asking for the new
password had no Thai font (on Debian's chromium, which has none of its own: boxes for letters)."""

from __future__ import annotations

import re

from engine.people.audit import Who
from engine.people.office import People
from tests import battery
from tests.conftest import World
from tests.web.conftest import Page


def test_the_forced_password_page_gets_its_font_and_nothing_else_opens(world: World) -> None:
    world.set_passwords()
    temporary = People(world.khanton.db).reset_password(Who("admin", "127.0.0.1"), "committee")
    page = Page(world.app.test_client())
    assert page.sign_in("committee", temporary).status_code == 302
    assert page.get("/account/password").status_code == 200
    css = page.get("/static/css/fonts.css").get_data(as_text=True)
    fonts = re.findall(r'url\("\.\./\.\./fonts/([^"]+)"\)', css)
    assert fonts, "fonts.css names no font"
    for name in fonts:
        font = page.client.get(f"/fonts/{name}")
        assert font.status_code == 200 and font.mimetype == "font/woff2", (name, font.status_code)
    # Everything else still waits for the new password.
    inbox = page.get("/")
    assert inbox.status_code == 302 and inbox.headers["Location"].endswith("/account/password")
    battery.add(battery.CASES, len(fonts) + 1)
    battery.add(battery.REFUSED, 1)
