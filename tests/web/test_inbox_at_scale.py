"""An officer with more waiting tasks than the inbox counts: the page says "more than", pages on
without a last page number, and the badge says "N+" (engine/read/inbox.py caps every count)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.read import inbox
from tests.conftest import World
from tests.drive import start
from web.tasks import inbox as inbox_page


def test_a_long_inbox_says_more_than_and_pages_on(web: World, page_as: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox, "COUNT_CAP", 5)
    monkeypatch.setattr(inbox, "WAITING_CAP", 4)
    monkeypatch.setattr(inbox_page, "PAGE_SIZE", 3)
    for _ in range(8):
        start(web, "budget-transfer")
    page = page_as("officer")
    page.get("/")
    assert "งานที่รอดำเนินการใน lane ของคุณ มากกว่า 5 รายการ" in page.html
    assert page.html.count('class="task-link"') == 3 and re.search(r"<span>หน้า 1</span>", page.html)
    assert re.search(r'class="badge"[^>]*>4\+<', page.html)
    page.get("/?page=3")
    assert page.html.count('class="task-link"') == 2
    assert "ก่อนหน้า" in page.html and "ถัดไป" not in page.html
    page.get("/?page=2")
    assert page.html.count('class="task-link"') == 3 and "ถัดไป" in page.html
    seen = set()
    for number in (1, 2, 3):
        page.get(f"/?page={number}")
        seen |= set(re.findall(r'class="task-link" href="(/tasks/[^"]+)"', page.html))
    assert len(seen) == 8  # every task once, across the pages
    monkeypatch.setattr(inbox, "COUNT_CAP", 1000)
    page.get("/")
    assert "งานที่รอดำเนินการใน lane ของคุณ 8 รายการ" in page.html and "หน้า 1 จาก 3" in page.html
