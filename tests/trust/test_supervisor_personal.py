"""A supervisor who is nothing else changes nothing (web/monitor read_only_guard) — except what is their
own: their password, their notifications, and which notifications they receive and where. Found by the
access matrix: the choices page was shown to a supervisor, and saving it answered 403."""

from __future__ import annotations

from tests import battery
from tests.conftest import World
from tests.web.conftest import Page


def test_a_supervisor_saves_their_own_notification_choices_and_still_changes_no_instance(world: World) -> None:
    world.set_passwords()
    page = Page(world.app.test_client())
    assert page.sign_in("supervisor").status_code == 302
    assert page.get("/account/notifications").status_code == 200
    saved = page.post("/account/notifications", {"address": "anan@example.org"})
    assert saved.status_code == 302, page.html[:300]
    page.get("/account/notifications")
    assert "anan@example.org" in page.html
    # Still read-only for everything else: a delegation of their own is refused as before.
    page.get("/delegations")
    assert page.post("/delegations", {"to": "officer"}).status_code == 403
    battery.add(battery.CASES, 2)
    battery.add(battery.REFUSED, 1)
