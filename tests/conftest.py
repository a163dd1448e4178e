"""Fixtures: a fresh database (SQLite file, or PostgreSQL), the app built from a dict, API clients."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from engine.service import Khanton
from tests import battery
from web import create_app

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "pass-1234"  # every test user's, in worlds copied from the template
POSTGRES_ADMIN_URL = os.environ.get("KHANTON_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as err:  # noqa: BLE001 - any failure means: skip, saying why
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {type(err).__name__}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway schema in the local PostgreSQL; skipped (with the reason) where none runs."""
    reason = _postgres_available()
    if reason:
        if os.environ.get("KHANTON_REQUIRE_POSTGRES"):
            pytest.fail(reason + " (KHANTON_REQUIRE_POSTGRES is set: PostgreSQL tests are mandatory)")
        pytest.skip(reason)
    yield POSTGRES_ADMIN_URL


def _fresh_postgres(base: str) -> tuple[str, Any]:
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"create schema {schema}"))
    url = f"{base}?options=-csearch_path%3D{schema}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()

    return url, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One suite, two databases: tests taking this fixture run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'khanton.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    url, drop = _fresh_postgres(base)
    yield url
    drop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'khanton.db'}"


def make_khanton(url: str, processes_dir: Path | None = None, forms_dir: Path | None = None) -> Khanton:
    khanton = Khanton(url, processes_dir or ROOT / "processes", forms_dir or ROOT / "forms")
    khanton.upgrade_schema()
    return khanton


# The schools of the test area (code, name, district): the scenarios' per-school rounds name the first four.
SCHOOLS: list[tuple[str, str, str]] = [
    ("1063010001", "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)", "เมืองตาก"),
    ("1063010002", "โรงเรียนบ้านสาธิตวังเจ้า (สาธิต)", "วังเจ้า"),
    ("1063010003", "โรงเรียนบ้านสาธิตบ้านตาก (สาธิต)", "บ้านตาก"),
    ("1063010004", "โรงเรียนบ้านสาธิตสามเงา (สาธิต)", "สามเงา"),
    ("1063010009", "โรงเรียนบ้านนอกรอบ (สาธิต)", "เมืองตาก"),
]

USERS: dict[str, tuple[list[str], list[str]]] = {
    "officer": (["officer"], ["plan_officer"]),
    "committee": (["officer"], ["committee"]),
    "head": (["officer"], ["plan_head"]),
    "director": (["officer"], ["esa_director"]),
    "school": (["officer"], ["school"]),
    "group": (["officer"], ["office_group"]),
    "school2": (["officer"], ["school"]),
    "school3": (["officer"], ["school"]),
    "school4": (["officer"], ["school"]),
    "analyst": (["analyst"], []),
    "supervisor": (["supervisor"], []),
    "outsider": (["officer"], ["school"]),
}
# Each school user belongs to one school; "outsider"'s school is listed in no scenario's rounds.
SCHOOL_OF: dict[str, str] = {"school": "1063010001", "school2": "1063010002", "school3": "1063010003",
                             "school4": "1063010004", "outsider": "1063010009"}


class Api:
    """A Flask test client that speaks as one user, with a bearer token."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(f"/api/v1{path}", json=json, headers=self.headers, **kw)

    def put(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self.client.put(f"/api/v1{path}", data=data, headers=self.headers, **kw)


class World:
    """The app, its engine, and one API client per demo role."""

    def __init__(self, url: str, processes_dir: Path | None = None, forms_dir: Path | None = None,
                 load: bool = True) -> None:
        self.khanton = make_khanton(url, processes_dir, forms_dir)
        if load:
            self.khanton.load_directory()
        self._make_app(url)
        self.tokens: dict[str, str] = {}
        self.passwords_set = False
        for code, school_name, district in SCHOOLS:
            self.khanton.add_school(code, school_name, district)
        for name, (roles, lanes) in USERS.items():
            self.khanton.add_user(name, roles, lanes, school=SCHOOL_OF.get(name))
            self.tokens[name] = self.khanton.issue_token(name)

    @classmethod
    def copied(cls, template: WorldTemplate, path: Path) -> World:
        """A world on a copy of the template's SQLite file: the same procedures, schools, users,
        passwords and tokens, without publishing 18 procedures and hashing 12 passwords again."""
        shutil.copyfile(template.path, path)
        world = cls.__new__(cls)
        url = f"sqlite:///{path}"
        world.khanton = Khanton(url, ROOT / "processes", ROOT / "forms")
        world._make_app(url)
        world.tokens = dict(template.tokens)
        world.passwords_set = True
        return world

    def _make_app(self, url: str) -> None:
        self.app: Flask = create_app({"TESTING": True, "DATABASE_URL": url,
                                      "PROCESSES_DIR": self.khanton.processes_dir,
                                      "FORMS_DIR": self.khanton.forms_dir})
        self.app.extensions["khanton"] = self.khanton

    def set_passwords(self) -> None:
        if not self.passwords_set:
            for name in USERS:
                self.khanton.set_password(name, PASSWORD)
            self.passwords_set = True

    def api(self, user: str) -> Api:
        return Api(self.app.test_client(), self.tokens[user])

    def close(self) -> None:
        self.khanton.db.dispose()


class WorldTemplate:
    """A world built once per test session, on a SQLite file that each `world` copies."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "template.db"
        world = World(f"sqlite:///{self.path}")
        world.set_passwords()
        self.tokens = dict(world.tokens)
        world.close()
        conn = sqlite3.connect(self.path)  # everything in the main file: nothing left in the WAL to copy
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> WorldTemplate:
    return WorldTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture
def world(world_template: WorldTemplate, tmp_path: Path) -> Iterator[World]:
    w = World.copied(world_template, tmp_path / "khanton.db")
    yield w
    w.close()


@pytest.fixture
def any_world(database_url: str) -> Iterator[World]:
    w = World(database_url)
    yield w
    w.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """`make test` prints the trust battery's figures (#13: cases tried, refused, faults, writes lost)."""
    line = battery.summary()
    if line:
        terminalreporter.write_sep("=", "trust battery")
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def _chromium() -> Iterator[Any]:
    from tests.browser import launched  # tests.browser imports this module

    with launched() as browser:
        yield browser


@pytest.fixture(scope="module")
def chromium(_chromium: Any) -> Iterator[Any]:
    """Debian's chromium driven by Playwright: one for the whole session (a launch per module cost ~1 s
    each), the contexts a module opened closed at its end."""
    yield _chromium
    for context in _chromium.contexts:
        context.close()
