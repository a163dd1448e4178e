"""Several `khanton worker` processes on one database fire each due timer exactly once, and a worker
killed with SIGKILL in the middle of its firings loses none and doubles none."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import instances
from engine.accounts import Actor
from engine.models import Event, HumanTask, Instance, Timer
from engine.service import Khanton
from tests.conftest import make_khanton

DATA = Path(__file__).parent / "data"
KHANTON = str(Path(sys.executable).with_name("khanton"))


def _khanton_with_waits(url: str, count: int) -> Khanton:
    """`count` instances each waiting at a 1-second timer (one prepared start written `count` times)."""
    khanton = make_khanton(url)
    khanton.deploy_files([DATA / "timer-wait.bpmn"], "test")
    actor = Actor("test", frozenset({"officer"}), frozenset({"plan_officer"}))
    with khanton.db.transaction() as session:
        prepared = instances.prepare_start(session, "timer-wait", {}, actor)
        for _ in range(count):
            instances.apply_start(session, prepared, {}, actor)
    return khanton


def _workers(url: str, n: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "DATABASE_URL": url}
    return [subprocess.Popen([KHANTON, "worker", "--interval", "0.2"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE) for _ in range(n)]


def _pending(khanton: Khanton) -> int:
    with khanton.db.transaction(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(Timer).where(Timer.status == "pending")) or 0)


def _wait_until_none_pending(khanton: Khanton, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _pending(khanton) and time.monotonic() < deadline:
        time.sleep(0.5)


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGINT)
    for worker in workers:
        try:
            worker.wait(timeout=60)  # a worker ends its pass first (1,000 firings, then the notices)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _assert_each_fired_once(khanton: Khanton, count: int) -> set[str]:
    """Every timer fired, once: one fired row, one `timer` event and one next task per instance."""
    with khanton.db.transaction(read_only=True) as session:
        rows = session.execute(select(Timer.status, func.count()).group_by(Timer.status)).all()
        assert dict(rows) == {"fired": count}
        per_instance = select(Event.instance_id, func.count().label("n")).where(Event.kind == "timer") \
            .group_by(Event.instance_id).subquery()
        assert session.execute(select(per_instance.c.n, func.count()).group_by(per_instance.c.n)).all() == \
            [(1, count)]
        tasks = select(HumanTask.instance_id, func.count().label("n")).where(HumanTask.task_spec == "after") \
            .group_by(HumanTask.instance_id).subquery()
        assert session.execute(select(tasks.c.n, func.count()).group_by(tasks.c.n)).all() == [(1, count)]
        assert set(session.scalars(select(Instance.revision))) == {2}  # one write each after the start
        return set(session.scalars(select(Timer.fired_by)))


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    from tests.conftest import _fresh_postgres

    url, drop = _fresh_postgres(postgres_url)
    yield url
    drop()


def test_three_workers_on_postgresql_fire_each_of_1000_timers_exactly_once(pg_url: str) -> None:
    khanton = _khanton_with_waits(pg_url, 1000)
    try:
        time.sleep(1.1)  # all 1,000 come due together
        workers = _workers(pg_url, 3)
        try:
            _wait_until_none_pending(khanton, timeout=240)
        finally:
            _stop(workers)
        for worker in workers:
            assert worker.returncode in (0, 130), worker.stderr.read() if worker.stderr else b""
        fired_by = _assert_each_fired_once(khanton, 1000)
        assert len(fired_by) == 3, fired_by  # all three took a share: the claims ran side by side
    finally:
        khanton.db.dispose()


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_a_worker_killed_mid_firing_loses_and_doubles_nothing(db: str, tmp_path: Path,
                                                               request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'khanton.db'}" if db == "sqlite" else request.getfixturevalue("pg_url")
    khanton = _khanton_with_waits(url, 300)
    try:
        time.sleep(1.1)
        rng = random.Random(10)
        for _ in range(3):  # start a worker, let it get well into its firings, kill it outright
            [worker] = _workers(url, 1)
            before = _pending(khanton)
            while _pending(khanton) > before - 20 and worker.poll() is None:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.05, 0.3))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        assert 0 < _pending(khanton) < 300  # the kills left work half done
        workers = _workers(url, 1)  # the next start fires what the killed ones left
        try:
            _wait_until_none_pending(khanton, timeout=180)
        finally:
            _stop(workers)
        _assert_each_fired_once(khanton, 300)
    finally:
        khanton.db.dispose()


def _serve(url: str, *flags: str) -> subprocess.Popen[bytes]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "KHANTON_SECRET_KEY": "test"}
    return subprocess.Popen([KHANTON, "serve", "--port", str(port), *flags], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_serve_fires_at_its_start_what_came_due_while_nothing_ran(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'office.db'}"
    khanton = _khanton_with_waits(url, 5)
    try:
        time.sleep(1.1)  # due now, and no process runs
        quiet = _serve(url, "--no-timers")  # web processes only: a worker is expected to fire them
        time.sleep(3)
        quiet.kill()
        quiet.wait()
        assert _pending(khanton) == 5
        server = _serve(url)
        try:
            _wait_until_none_pending(khanton, timeout=30)
        finally:
            server.kill()
            server.wait()
        _assert_each_fired_once(khanton, 5)
    finally:
        khanton.db.dispose()
