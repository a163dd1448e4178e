"""Faults (#13, part 4): the database out of reach for a while, then back.

PostgreSQL: a TCP proxy (tests/trust/tcp_proxy.py) stands between a live server and the database and is
cut: every page and API call answers 503 within a bound (not 500, not hanging), in Thai on pages and in
the API's error shape, storing nothing; once the proxy forwards again the same server process serves
again, without a restart, and the work goes on. The same with a silent cut (a host gone from the network,
a connect that would wait forever). `khanton worker` lives through the outage and fires, once each,
the timers that came due meanwhile. SQLite: another connection holds the write lock past the busy
timeout: a 503 "busy" in Thai, then the same request works.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from engine import instances
from engine.accounts import Actor
from engine.models import Event, Instance, Timer
from tests import battery
from tests.conftest import PASSWORD, ROOT, World, _fresh_postgres
from tests.drive import data_for, scenario
from tests.test_cli_server import KHANTON
from web import create_app

from . import faults_check
from .tcp_proxy import TcpProxy

ANSWER_WITHIN_S = 12.0  # an outage is told within this (PostgreSQL's connect timeout and a margin)
UNAVAILABLE = "ติดต่อฐานข้อมูลไม่ได้ชั่วคราว"
BUSY = "ระบบไม่ว่าง กรุณาลองอีกครั้ง"
PROCEDURES = ("budget-transfer", "monitor-and-report")
DATA = ROOT / "tests" / "data"


def _request(opener: urllib.request.OpenerDirector, method: str, url: str, token: str | None = None,
             body: Any = None, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str, float]:
    """Status, headers, text and seconds taken of one request over real HTTP."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
    began = time.monotonic()
    try:
        with opener.open(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=60) as answer:
            return answer.status, dict(answer.headers), answer.read().decode(), time.monotonic() - began
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode(), time.monotonic() - began


class Live:
    """The app served over HTTP from a thread of this process: one pool, kept across the outage."""

    def __init__(self, url: str, processes: Path) -> None:
        self.app = create_app({"DATABASE_URL": url, "PROCESSES_DIR": processes, "FORMS_DIR": ROOT / "forms"})
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.site = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.app.extensions["khanton"].db.dispose()


@pytest.fixture(scope="module")
def office(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, World]]:
    """One fresh PostgreSQL schema with the procedures and users for the module (each test checks its own
    instances): its address, the procedures' folder and a world on it."""
    url, drop = _fresh_postgres(postgres_url)
    processes = tmp_path_factory.mktemp("processes")
    for key in PROCEDURES:
        shutil.copy(ROOT / "processes" / f"{key}.bpmn", processes)
    world = World(url, processes_dir=processes)
    world.set_passwords()
    try:
        yield url, processes, world
    finally:
        world.close()
        drop()


@pytest.fixture
def outage(office: tuple[str, Path, World]) -> Iterator[tuple[str, TcpProxy, Path, World]]:
    """The office's database and a proxy to it, which the test cuts and restores."""
    url, processes, world = office
    proxy = TcpProxy(("127.0.0.1", 5432))
    try:
        yield url, proxy, processes, world
    finally:
        proxy.close()


def _instances(world: World) -> int:
    with world.khanton.db.transaction(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(Instance)) or 0)


def _sign_in(site: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A signed-in browser and the CSRF token of its session (read from the start page of a procedure)."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    status, _, login, _ = _request(browser, "GET", f"{site}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert status == 200 and token
    status, _, _, _ = _request(browser, "POST", f"{site}/login",
                               form={"username": "officer", "password": PASSWORD, "csrf_token": token.group(1)})
    assert status == 200  # followed the redirect to the inbox
    status, _, page, _ = _request(browser, "GET", f"{site}/processes/budget-transfer")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert status == 200 and token
    return browser, token.group(1)


def _assert_unavailable(answer: tuple[int, dict[str, str], str, float], api: bool) -> None:
    status, headers, text, took = answer
    assert status == 503, (status, text[:500])
    assert took < ANSWER_WITHIN_S, f"answered after {took:.1f} s"
    assert headers.get("Retry-After")
    if api:
        error = json.loads(text)["error"]
        assert error["code"] == "unavailable" and UNAVAILABLE in error["message"], error
    else:
        assert UNAVAILABLE in text, text[:1000]
    battery.add(battery.REFUSED)


@pytest.mark.parametrize("silent", [False, True], ids=["refused", "silent"])
def test_an_outage_answers_503_in_thai_stores_nothing_and_the_same_server_serves_when_it_returns(
        outage: tuple[str, TcpProxy, Path, World], silent: bool) -> None:
    url, proxy, processes, world = outage
    live = Live(proxy.url(url), processes)
    try:
        api = f"{live.site}/api/v1"
        plain = urllib.request.build_opener()
        token = world.tokens["officer"]
        start = {"process": "budget-transfer", "data": scenario("budget-transfer")["start"]}
        status, _, text, _ = _request(plain, "POST", f"{api}/instances", token, start)
        assert status == 201, text
        instance = json.loads(text)
        task_id = instance["ready_tasks"][0]["id"]
        status, _, text, _ = _request(plain, "GET", f"{api}/tasks/{task_id}", token)
        data = data_for(json.loads(text), scenario("budget-transfer")["steps"])
        browser, csrf = _sign_in(live.site)

        before = _instances(world)
        proxy.cut(silent=silent)
        battery.add(battery.FAULTS)
        _assert_unavailable(_request(plain, "POST", f"{api}/tasks/{task_id}/complete", token, {"data": data}), api=True)
        _assert_unavailable(_request(browser, "GET", f"{live.site}/"), api=False)
        if not silent:  # a silent cut costs the connect timeout per request: two show it
            _assert_unavailable(_request(plain, "POST", f"{api}/instances", token, start), api=True)
            _assert_unavailable(_request(plain, "GET", f"{api}/instances/{instance['id']}", token), api=True)
            _assert_unavailable(_request(browser, "POST", f"{live.site}/processes/budget-transfer",
                                         form={"fiscal_year": "2570", "title": "ระหว่างขัดข้อง", "csrf_token": csrf}),
                                api=False)
        battery.add(battery.CASES, 2 if silent else 5)

        proxy.restore()
        status, _, text, _ = _request(plain, "POST", f"{api}/tasks/{task_id}/complete", token, {"data": data})
        assert status == 200, text  # the same process, its pool reconnected
        status, _, text, _ = _request(browser, "GET", f"{live.site}/")
        assert status == 200 and "ระหว่างขัดข้อง" not in text
        status, _, text, _ = _request(plain, "GET", f"{api}/instances/{instance['id']}/timeline", token)
        assert [event["kind"] for event in json.loads(text)] == ["started", "completed"], text
        checked, found = faults_check.problems(url)
        assert not found, found  # nothing half-written
        assert _instances(world) == before  # nothing of the starts refused during the outage
        battery.add(battery.INSTANCES, checked)
        battery.add(battery.CASES, 3)
    finally:
        live.close()


def test_the_timers_worker_lives_through_an_outage_and_fires_what_came_due(
        outage: tuple[str, TcpProxy, Path, World], tmp_path: Path) -> None:
    url, proxy, _, world = outage
    khanton = world.khanton
    khanton.deploy_files([DATA / "timer-wait.bpmn"], "test")
    env = {**os.environ, "DATABASE_URL": proxy.url(url)}
    log = tmp_path / "worker.log"  # a file, not a pipe: the failed polls' log would fill a pipe and block it
    with log.open("wb") as out:
        worker = subprocess.Popen(KHANTON + ["worker", "--interval", "0.2"], env=env, cwd=ROOT,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.5)  # it polls through the proxy
        proxy.cut()
        battery.add(battery.FAULTS)
        actor = Actor("test", frozenset({"officer"}), frozenset({"plan_officer"}))
        with khanton.db.transaction() as session:  # straight to the database: work that comes due meanwhile
            prepared = instances.prepare_start(session, "timer-wait", {}, actor)
            waiting = [instances.apply_start(session, prepared, {}, actor).instance.id for _ in range(5)]
        fired_timers = select(func.count()).select_from(Timer).where(
            Timer.status == "fired", Timer.instance_id.in_(waiting))
        time.sleep(2.5)  # the 1-second timers come due while the worker cannot reach the database
        assert worker.poll() is None, log.read_text()[-3000:]
        with khanton.db.transaction(read_only=True) as session:
            assert session.scalar(fired_timers) == 0
        proxy.restore()
        deadline = time.monotonic() + 30
        fired = 0
        while time.monotonic() < deadline and fired < 5:
            time.sleep(0.3)
            with khanton.db.transaction(read_only=True) as session:
                fired = session.scalar(fired_timers) or 0
        assert fired == 5, f"{fired} of 5 timers fired after the database came back: {log.read_text()[-3000:]}"
        with khanton.db.transaction(read_only=True) as session:
            assert session.scalar(select(func.count()).select_from(Event).where(
                Event.kind == "timer", Event.instance_id.in_(waiting))) == 5
        battery.add(battery.INSTANCES, 5)
        battery.add(battery.CASES, 5)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def test_sqlite_locked_past_the_busy_timeout_answers_busy_in_thai_then_works(world: World) -> None:
    import sqlite3

    from engine.db import Database

    url = world.khanton.db.url
    world.khanton.db.dispose()
    world.khanton.db = Database(url, busy_timeout_ms=200)
    api = world.api("officer")
    start = {"process": "budget-transfer", "data": scenario("budget-transfer")["start"]}
    blocker = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holding the file past the busy timeout
    battery.add(battery.FAULTS)
    try:
        refused = api.post("/instances", json=start)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    error = refused.get_json()["error"]
    assert error["code"] == "unavailable" and BUSY in error["message"], error
    checked, found = faults_check.problems(url)
    assert (checked, found) == (0, [])
    assert api.post("/instances", json=start).status_code == 201
    battery.add(battery.REFUSED)
    battery.add(battery.CASES, 2)
