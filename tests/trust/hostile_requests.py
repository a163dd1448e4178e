"""Shared pieces of the hostile-request tests: a module's own world, signing in, crawling the menus,
and reading a page's HTML for what an injected payload would have left behind."""

from __future__ import annotations

from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from tests.conftest import World, WorldTemplate
from tests.web.conftest import Page

# Answers the crawler does not follow: signing out, files and exports (their own tests read them).
NOT_FOLLOWED = ("/logout", "/static/", "/fonts/", "/vendor/", "/attachments/", "/api/")
NOT_FOLLOWED_ENDINGS = (".pdf", ".bpmn", ".json", "/download")


def module_world(template: WorldTemplate, factory: pytest.TempPathFactory, name: str) -> World:
    """A world of the module's own: the template's procedures, people, passwords and tokens."""
    return World.copied(template, Path(factory.mktemp(name)) / "khanton.db")


def signed_in(world: World, username: str) -> Page:
    page = Page(world.app.test_client())
    assert page.sign_in(username).status_code == 302, page.html
    return page


class Elements(HTMLParser):
    """Every element's tag and attributes, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def links(html: str, base: str) -> Iterable[str]:
    """The site's own addresses a page links to (href of <a>), made absolute paths."""
    for tag, attrs in elements(html):
        href = attrs.get("href", "")
        if tag != "a" or not href or href.startswith("#"):
            continue
        target = urlsplit(urljoin("http://localhost" + base, href))
        if target.netloc == "localhost" and target.scheme == "http":
            yield target.path + (f"?{target.query}" if target.query else "")


def crawl(page: Page, start: str = "/", limit: int = 60) -> dict[str, Any]:
    """The pages reachable from `start` through the menus and lists, at most `limit`, one per path
    (paging and sorting links of one list are one page): path -> response."""
    seen: dict[str, Any] = {}
    queue = [start]
    paths: set[str] = set()
    while queue and len(seen) < limit:
        address = queue.pop(0)
        path = urlsplit(address).path
        if path in paths or path.startswith(NOT_FOLLOWED) or path.endswith(NOT_FOLLOWED_ENDINGS) \
                or "format=" in address:
            continue
        paths.add(path)
        response = page.get(address)
        seen[address] = response
        if response.mimetype == "text/html":
            queue += [link for link in links(page.html, path) if urlsplit(link).path not in paths]
    return seen
