"""Every page a person can reach, at a phone's 360 px and a tablet's 768 px, in Debian's chromium.

Each demo person (plan officer, committee secretary, head of group, school, analyst, supervisor, admin)
signs in and the test follows every link it finds (pages added later are covered without listing them): no page scrolls
sideways, every form field and button is rendered whole inside the viewport once scrolled to, is the
element a tap at its centre reaches, and every button is at least 24×24 px (WCAG 2.2 target size).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser import WatchedBrowser, serving, signed_in_page
from tests.conftest import World
from web.demo import PASSWORD, load_demo

PEOPLE = ["somchai", "suda", "wichai", "school_nongbua", "nipa", "anan", "admin_demo"]
WIDTHS = [360, 768]
SKIP = re.compile(r"^/(logout|attachments/|static/)|\.(pdf|csv|xlsx)$|[?&]format=")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PER_PATTERN = 3  # task and instance pages: a few of each (their forms differ), not every one
MAX_PAGES = 60

# Runs in the page: every control rendered, scrolled to, measured. Returns what is wrong, in words.
CHECK = (Path(__file__).parent / "phone_check.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('phone') / 'khanton.db'}")
    load_demo(world.khanton)
    with serving(world.app) as base:
        yield base, world
    world.close()


def _pattern(path: str) -> str:
    split = urlsplit(path)
    keys = sorted(part.split("=")[0] for part in split.query.split("&") if part)
    return UUID.sub("{id}", split.path) + ("?" + "&".join(keys) if keys else "")


def crawl(page: Any, base: str) -> list[str]:
    """Every page reachable from the inbox (and the search results), each checked; the paths visited."""
    queue: deque[str] = deque(["/", "/search?q=" + "โอน"])
    seen: set[str] = set()
    per_pattern: dict[str, int] = {}
    problems: list[str] = []
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen or per_pattern.get(_pattern(path), 0) >= PER_PATTERN:
            continue
        seen.add(path)
        per_pattern[_pattern(path)] = per_pattern.get(_pattern(path), 0) + 1
        response = page.goto(base + path)
        assert response is not None and response.status < 500, f"{path}: {response and response.status}"
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            if href.startswith(base):
                link = href[len(base):].split("#")[0] or "/"
                if not SKIP.search(link) and link not in seen:
                    queue.append(link)
        toggle = page.locator(".menu-toggle")
        if toggle.is_visible():
            toggle.click()
        result = page.evaluate(CHECK)
        problems += [f"{path}: {p}" for p in result["problems"]]
    assert not problems, "\n".join(problems)
    return sorted(seen)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username", PEOPLE)
def test_every_reachable_page_fits_and_every_field_is_usable(demo_server: tuple[str, World], browser: WatchedBrowser,
                                                              username: str, width: int) -> None:
    base, world = demo_server
    waiting = world.khanton.inbox(world.khanton.actor(username)).rows  # what their inbox links to
    page = signed_in_page(browser, base, username, width, height=740, password=PASSWORD)
    visited = crawl(page, base)
    print(f"{username} at {width} px: {len(visited)} pages checked")  # noqa: T201 - the -s record
    assert "/" in visited and any(p.startswith("/search") for p in visited)
    if username in ("somchai", "suda"):  # they have work in the demo: forms were checked
        assert waiting
    if waiting:
        assert any(p.startswith("/tasks/") for p in visited), visited
    page.context.close()
    assert browser.csp_violations == [] and browser.missing == []


def test_a_phone_shows_the_work_on_the_first_screen_and_the_menu_on_demand(
        demo_server: tuple[str, World], browser: WatchedBrowser, shots: Path) -> None:
    base, _ = demo_server
    page = signed_in_page(browser, base, "somchai", 360, height=740, password=PASSWORD)
    header = page.locator(".topbar").bounding_box()
    first_row = page.locator("table.inbox tbody tr").first.bounding_box()
    assert header is not None and first_row is not None
    assert header["height"] <= 72, f"the header takes {header['height']} px of a 740 px screen"
    assert first_row["y"] <= 300, f"the first task starts {first_row['y']} px down a 740 px screen"
    page.screenshot(path=str(shots / "phone-inbox.png"))
    # The menu: closed, its links out of sight; opened, they are there and tappable; Escape closes it.
    toggle = page.get_by_role("button", name="เมนู")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.get_by_role("link", name="รายการกระบวนงาน").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.get_by_role("searchbox", name="ค้นหากระบวนงาน").is_visible()
    page.screenshot(path=str(shots / "phone-menu.png"))
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    page.get_by_role("link", name="รายการกระบวนงาน").click()
    page.wait_for_url(base + "/instances")
    page.context.close()


def test_an_item_table_on_a_phone_is_a_card_per_row_each_field_named(
        demo_server: tuple[str, World], browser: WatchedBrowser, shots: Path) -> None:
    base, world = demo_server
    # The committee's secretary: step 5 waits for her.
    page = signed_in_page(browser, base, "suda", 360, height=740, password=PASSWORD)
    page.locator("table.inbox tbody tr", has_text="ครั้งที่ 1/2570").get_by_role("link").first.click()
    page.wait_for_selector("fieldset.table-field")
    cell = page.locator("fieldset.table-field tbody tr").first.locator("td").nth(1)
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    field = cell.locator("input, select").first
    box = field.bounding_box()
    assert box is not None
    assert label.strip('"') == cell.get_attribute("data-label") and label.strip('"')  # the column's name, shown
    assert box["width"] >= 250, f"a field of the table is {box['width']} px wide on a 360 px phone"
    page.get_by_role("button", name="+ เพิ่มแถว").click()  # a new row is a card too, numbered
    rows = page.locator("fieldset.table-field tbody tr")
    assert rows.last.locator("td.rownum").inner_text().strip() == str(rows.count())
    rows.last.locator("td").nth(1).scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "phone-table.png"))
    page.context.close()
