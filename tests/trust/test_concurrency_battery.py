"""Concurrency on PostgreSQL (#13, part 5): one real deployment under a seeded random mix of everything.

`khanton serve --workers 3` (gunicorn) and two `khanton worker` processes on a fresh PostgreSQL schema;
twelve client threads, over real HTTP with real tokens, for a bounded time, complete, claim, release,
hand over, suspend, resume and send back (admin repairs), start instances, publish new versions of the
procedure and migrate instances to them, while every instance's one-second timer falls due again and
again. Most of the work lands on a few "hot" instances, so that the clients collide; the rest spreads
over "cold" ones. Then, from the database itself:

- every answer was 2xx, or 409 in the API's error shape with a Thai message, or a documented refusal
  for that operation (403 held by a colleague, 422 send-back to a step not yet done); never 5xx, never a
  request left unanswered past the client's timeout;
- no lost update: the completions acknowledged per instance are exactly its `completed` events and its
  completed task rows; no task completed twice; no timer fired twice (one `timer` event per fired row);
- the rows agree with the stored workflow: each instance waits at exactly one place (its one ready
  round or its one pending timer), and its ready rows are the workflow's ready tasks;
- no session is left waiting on a lock, and the deployment stops cleanly within its bound on SIGTERM;
- conflicts happened (the test really collides), and each was a 409.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from sqlalchemy import create_engine, func, select, text

from engine import state
from engine.models import Event, HumanTask, Instance, Timer
from engine.runner import ready_user_tasks
from engine.runtime import versions
from tests import battery
from tests.conftest import ROOT, World, _fresh_postgres
from tests.trust.conc_loop import BPMN, KEY, START

KHANTON = str(Path(sys.executable).with_name("khanton"))
SEED = int(os.environ.get("KHANTON_BATTERY_SEED", "1305"))  # another seed: KHANTON_BATTERY_SEED
CLIENTS = 12
SECONDS = 20.0  # the load itself; with the start, the checks and the stop the test takes about 45 s
REQUEST_TIMEOUT = 20.0  # no request may take longer: a hang is a failure, not a wait
HOT, COLD = 4, 24
OFFICERS = ("officer", "officer2")
THAI = range(0x0E00, 0x0E80)
# What each operation may answer besides its 2xx: 409 always (a conflict), and the refusals api.md
# documents for it when a colleague got there first.
REFUSALS: dict[str, set[int]] = {
    "complete": {403, 409}, "claim": {409}, "release": {403, 409}, "hand_over": {403, 409},
    "suspend": {409}, "resume": {409}, "send_back": {409, 422}, "start": set(), "publish": {409},
    "migrate": set(), "read": set(),
}


@dataclass
class Tally:
    """What the clients saw, shared by the threads (under `lock`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    completed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # instance -> task ids
    instances: set[str] = field(default_factory=set)
    moved: int = 0
    migrate_refused: Counter[str] = field(default_factory=Counter)  # why each move was refused
    published: int = 0
    failures: list[str] = field(default_factory=list)


class Client:
    """One keep-alive connection; every call bounded by REQUEST_TIMEOUT."""

    def __init__(self, port: int, tokens: dict[str, str]) -> None:
        self.port, self.tokens = port, tokens
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def call(self, method: str, path: str, user: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[user]}", "Content-Type": "application/json"}
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        try:
            self.conn.request(method, "/api/v1" + path, body=payload, headers=headers)
            response = self.conn.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
            raise
        return response.status, json.loads(content or b"null")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
        return True
    except OSError:
        return False


@dataclass
class Deployment:
    port: int
    web: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    log: Path
    out: BinaryIO


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A fresh schema; every connection to it names itself after it (application_name), so that the
    check of pg_stat_activity sees only this test's sessions, not those of tests running beside it."""
    url, drop = _fresh_postgres(postgres_url)
    yield f"{url}&application_name={_schema(url)}"
    drop()


def _schema(url: str) -> str:
    return url.rsplit("%3D", 1)[1].split("&", 1)[0]


def _world(url: str, tmp: Path) -> World:
    """A world on the fresh schema with no procedures loaded but ours, two plan officers and an admin."""
    (tmp / "processes").mkdir()
    (tmp / "forms").mkdir()
    world = World(url, tmp / "processes", tmp / "forms")
    world.khanton.add_user("officer2", ["officer"], ["plan_officer"])
    world.khanton.add_user("admin", ["admin"], [])
    for name in ("officer2", "admin"):
        world.tokens[name] = world.khanton.issue_token(name)
    response = world.api("analyst").put(f"/processes/{KEY}/bpmn", data=BPMN.format(label="1").encode())
    assert response.status_code == 201, response.get_json()
    return world


def _start(url: str, tmp: Path) -> Deployment:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "KHANTON_SECRET_KEY": "conc-" + os.urandom(8).hex(),
           "KHANTON_PROCESSES": str(tmp / "processes"), "KHANTON_FORMS": str(tmp / "forms")}
    log = tmp / "deployment.log"
    out = log.open("ab")
    web = subprocess.Popen([KHANTON, "serve", "--port", str(port), "--workers", "3", "--no-timers"], env=env,
                           cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    workers = [subprocess.Popen([KHANTON, "worker", "--interval", "0.2"], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True) for _ in range(2)]
    deployment = Deployment(port, web, workers, log, out)
    for _ in range(300):
        if _answers(port):
            return deployment
        if web.poll() is not None:
            break
        time.sleep(0.1)
    _stop(deployment)
    raise AssertionError("khanton serve did not answer: " + log.read_text(errors="replace")[-2000:])


def _stop(deployment: Deployment) -> dict[str, float]:
    """SIGTERM to each process; the seconds each took to end (gunicorn's bound 30 s, a worker's 60 s).
    One that overstays is killed (its own process group, started here) and reported as such."""
    processes = {"web": (deployment.web, 30.0)} | {f"worker {n}": (w, 60.0) for n, w in enumerate(deployment.workers)}
    began = time.monotonic()
    for process, _ in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    took: dict[str, float] = {}
    while len(took) < len(processes):
        for name, (process, bound) in processes.items():
            if name in took:
                continue
            if process.poll() is not None:
                took[name] = time.monotonic() - began
            elif time.monotonic() - began > bound:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
                took[name] = float("inf")
        time.sleep(0.05)
    deployment.out.close()
    return took


class Mix:
    """One client thread's seeded random operations."""

    def __init__(self, client: Client, rng: random.Random, tally: Tally, hot: list[str], cold: list[str]) -> None:
        self.client, self.rng, self.tally, self.hot, self.cold = client, rng, tally, hot, cold

    def run(self, until: float) -> None:
        operations = [(self.complete, 30), (self.claim, 14), (self.release, 10), (self.hand_over, 10),
                      (self.suspend, 4), (self.resume, 6), (self.send_back, 4), (self.start, 5),
                      (self.migrate, 5), (self.publish, 3), (self.read, 4)]
        chosen = self.rng.choices([op for op, _ in operations], [w for _, w in operations],
                                  k=100_000)
        for operation in chosen:
            if time.monotonic() >= until:
                return
            operation()

    def _instance(self) -> str:
        with self.tally.lock:
            cold = self.cold + sorted(self.tally.instances - set(self.hot) - set(self.cold))
        return self.rng.choice(self.hot) if self.rng.random() < 0.6 else self.rng.choice(cold)

    def _ask(self, operation: str, method: str, path: str, user: str, body: Any = None,
             raw: bytes | None = None) -> tuple[int, Any]:
        battery.add(battery.CASES)
        try:
            status, answer = self.client.call(method, path, user, body, raw)
        except (OSError, http.client.HTTPException) as err:
            with self.tally.lock:
                self.tally.failures.append(f"{operation} {method} {path}: no answer ({type(err).__name__}: {err})")
            return 0, None
        with self.tally.lock:
            self.tally.statuses[(operation, status)] += 1
            if status >= 300:
                problem = _refusal_problem(operation, status, answer)
                if problem:
                    self.tally.failures.append(f"{operation} {method} {path}: {problem}")
        if status == 409:
            battery.add(battery.REFUSED)
        return status, answer

    def _ready_task(self, instance: str) -> str | None:
        status, answer = self._ask("read", "GET", f"/instances/{instance}", "admin")
        if status != 200 or not answer["ready_tasks"]:
            return None
        return str(answer["ready_tasks"][0]["id"])

    def complete(self) -> None:
        instance = self._instance()
        task = self._ready_task(instance)
        if task is None:
            return
        status, _ = self._ask("complete", "POST", f"/tasks/{task}/complete", self.rng.choice(OFFICERS), {"data": {}})
        if status == 200:
            with self.tally.lock:
                self.tally.completed[instance].add(task)

    def claim(self) -> None:
        task = self._ready_task(self._instance())
        if task is not None:
            self._ask("claim", "POST", f"/tasks/{task}/claim", self.rng.choice(OFFICERS))

    def release(self) -> None:
        task = self._ready_task(self._instance())
        if task is not None:
            self._ask("release", "POST", f"/tasks/{task}/release", self.rng.choice(OFFICERS))

    def hand_over(self) -> None:
        task = self._ready_task(self._instance())
        if task is not None:
            giver = self.rng.choice(OFFICERS)
            taker = OFFICERS[1 - OFFICERS.index(giver)]
            self._ask("hand_over", "POST", f"/tasks/{task}/hand-over", giver, {"to": taker, "note": "ฝากทำต่อ"})

    def suspend(self) -> None:
        self._ask("suspend", "POST", f"/instances/{self._instance()}/suspend", "admin", {"reason": "ตรวจสอบข้อมูล"})

    def resume(self) -> None:
        self._ask("resume", "POST", f"/instances/{self._instance()}/resume", "admin", {"reason": "ตรวจแล้ว"})

    def send_back(self) -> None:
        self._ask("send_back", "POST", f"/instances/{self._instance()}/send-back", "admin",
                  {"step": "work", "reason": "ทำรอบนี้ใหม่"})

    def start(self) -> None:
        status, answer = self._ask("start", "POST", "/instances", "officer", {"process": KEY, "data": START})
        if status == 201:
            with self.tally.lock:
                self.tally.instances.add(str(answer["id"]))

    def publish(self) -> None:
        label = f"{self.rng.randrange(10**9)}"
        status, _ = self._ask("publish", "PUT", f"/processes/{KEY}/bpmn", "analyst",
                              raw=BPMN.format(label=label).encode())
        if status in (200, 201):
            with self.tally.lock:
                self.tally.published += status == 201

    def migrate(self) -> None:
        status, process = self._ask("read", "GET", f"/processes/{KEY}", "analyst")
        if status != 200:
            return
        chosen = sorted({self._instance() for _ in range(3)})
        status, answer = self._ask("migrate", "POST", f"/processes/{KEY}/migrate", "analyst",
                                   {"to": process["latest_version"], "instances": chosen})
        if status != 200:
            return
        with self.tally.lock:
            for result in answer["results"]:
                if result["moved"]:
                    self.tally.moved += 1
                elif not result["ok"]:
                    self.tally.migrate_refused[result["reason"][:60]] += 1
                    if not _thai(result["reason"]):
                        self.tally.failures.append(f"migrate refused without a Thai reason: {result}")

    def read(self) -> None:
        self._ask("read", "GET", f"/instances/{self._instance()}/timeline", "admin")


def _thai(message: object) -> bool:
    return isinstance(message, str) and any(ord(c) in THAI for c in message)


def _refusal_problem(operation: str, status: int, answer: Any) -> str | None:
    """Why a non-2xx answer is wrong, or None when it is a documented refusal in the API's shape."""
    if status not in REFUSALS[operation]:
        return f"answered {status}: {str(answer)[:300]}"
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict) or not {"code", "message", "details"} <= set(error):
        return f"{status} without the API's error shape: {str(answer)[:300]}"
    if not _thai(error["message"]):
        return f"{status} without a Thai message: {error['message']!r}"
    if status == 403 and not (isinstance(error["details"], dict) and error["details"].get("holder")):
        return f"403 that is not 'a colleague holds it': {error}"
    return None


def _load(port: int, world: World, tally: Tally, hot: list[str], cold: list[str]) -> None:
    until = time.monotonic() + SECONDS
    mixes = [Mix(Client(port, world.tokens), random.Random(SEED + n), tally, hot, cold) for n in range(CLIENTS)]
    threads = [threading.Thread(target=mix.run, args=(until,), daemon=True) for mix in mixes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + REQUEST_TIMEOUT + 5)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"client threads still waiting after the bound: {stuck}"


def _check_instance(session: Any, instance: Instance, acknowledged: set[str]) -> tuple[list[str], int]:
    """What is wrong with one instance after the load (empty when nothing is), and how many of its
    acknowledged completions are missing from its events."""
    wrong: list[str] = []
    events = session.execute(select(Event.task_id, func.count()).where(
        Event.instance_id == instance.id, Event.kind == "completed").group_by(Event.task_id)).all()
    twice = [task for task, n in events if n != 1]
    if twice:
        wrong.append(f"tasks completed more than once: {twice}")
    in_events = {task for task, _ in events}
    rows = set(session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                          HumanTask.status == "completed")))
    if not acknowledged == in_events == rows:
        wrong.append(f"acknowledged {sorted(acknowledged)} ≠ completed events {sorted(in_events)} "
                     f"≠ completed rows {sorted(rows)}")
    fired = session.scalar(select(func.count()).select_from(Timer).where(
        Timer.instance_id == instance.id, Timer.status == "fired")) or 0
    timer_events = session.execute(select(Event.data).where(Event.instance_id == instance.id,
                                                             Event.kind == "timer")).scalars().all()
    per_due = Counter(str((data or {}).get("due_at")) for data in timer_events)
    if len(timer_events) != fired or any(n != 1 for n in per_due.values()):
        wrong.append(f"{fired} timer rows fired, {len(timer_events)} timer events {dict(per_due)}")
    ready = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                    HumanTask.status == "ready")).all()
    pending = session.scalar(select(func.count()).select_from(Timer).where(
        Timer.instance_id == instance.id, Timer.status == "pending")) or 0
    if instance.status not in ("running", "suspended"):
        wrong.append(f"status {instance.status}")
    elif len(ready) + pending != 1:
        wrong.append(f"waits at {len(ready)} ready round(s) and {pending} pending timer(s), not one place")
    workflow = state.load(versions.compiled(session, instance.version_id), instance.state)
    if {row.spiff_task_id for row in ready} != {str(t.id) for t in ready_user_tasks(workflow)}:
        wrong.append("ready rows differ from the workflow's ready tasks")
    if wrong:  # what happened to it, to read in the failure
        rows = session.execute(select(Timer.spiff_task_id, Timer.due_at, Timer.status, Timer.fired_by)
                               .where(Timer.instance_id == instance.id).order_by(Timer.created_at)).all()
        history = session.execute(select(Event.at, Event.actor, Event.kind, Event.task_id, Event.data).where(
            Event.instance_id == instance.id).order_by(Event.id)).all()
        wrong.append(f"timer rows {[tuple(map(str, r)) for r in rows]}; events {[tuple(map(str, e)) for e in history]}")
    return wrong, len(acknowledged - in_events)


def _lock_waits(url: str) -> list[Any]:
    probe = create_engine(url)
    try:
        with probe.connect() as conn:
            return list(conn.execute(text(
                "select pid, xact_start, state, wait_event_type, left(query, 120) from pg_stat_activity "
                "where application_name = :name and pid <> pg_backend_pid() "
                "and (wait_event_type = 'Lock' or state like 'idle in transaction%')"), {"name": _schema(url)}).all())
    finally:
        probe.dispose()


def test_a_deployment_under_a_random_mix_of_everything_loses_nothing_and_answers_409_for_conflicts(
        pg_url: str, tmp_path: Path) -> None:
    world = _world(pg_url, tmp_path)
    tally = Tally()
    hanging: list[Any] = []
    deployment = _start(pg_url, tmp_path)
    try:
        setup = Client(deployment.port, world.tokens)
        started = [setup.call("POST", "/instances", "officer", {"process": KEY, "data": START})
                   for _ in range(HOT + COLD)]
        assert {status for status, _ in started} == {201}
        ids = [str(answer["id"]) for _, answer in started]
        status, _ = setup.call("PUT", f"/processes/{KEY}/bpmn", "analyst", raw=BPMN.format(label="2").encode())
        assert status == 201  # the instances started wait on version 1: there is somewhere to move them from the start
        tally.instances.update(ids)
        _load(deployment.port, world, tally, ids[:HOT], ids[HOT:])
        # The clients are done, the deployment still runs: a session waiting on a lock, or idle in an open
        # transaction, in the same transaction a second later, is left hanging (a firing in progress is not).
        first = _lock_waits(pg_url)
        time.sleep(1.0)
        hanging = [row for row in _lock_waits(pg_url) if (row[0], row[1]) in {(r[0], r[1]) for r in first}]
    finally:
        took = _stop(deployment)
    hanging += _lock_waits(pg_url)  # every process of the deployment has ended: nothing may be left
    log = deployment.log.read_text(errors="replace")
    try:
        with world.khanton.db.transaction(read_only=True) as session:
            wrong = {}
            missing = 0
            for instance in session.scalars(select(Instance).where(Instance.process_key == KEY)):
                battery.add(battery.INSTANCES)
                problems, lost = _check_instance(session, instance, tally.completed.get(instance.id, set()))
                missing += lost
                if problems:
                    wrong[instance.id] = problems
            known = set(session.scalars(select(Instance.id)))
            fired_by = set(session.scalars(select(Timer.fired_by).where(Timer.fired_by.is_not(None))))
            timer_events = session.scalar(select(func.count()).select_from(Event).where(Event.kind == "timer"))
    finally:
        world.close()
    acknowledged = sum(len(tasks) for tasks in tally.completed.values())
    workers = {name for name in fired_by if ":" in name}  # host:pid; "engine" for one a completion fired
    battery.lost(missing)
    conflicts = sum(n for (_, status), n in tally.statuses.items() if status == 409)
    by_operation = Counter[str]()
    for (operation, _), n in tally.statuses.items():
        by_operation[operation] += n
    print(f"\n  concurrency battery: {sum(tally.statuses.values())} answers in {SECONDS:.0f} s from {CLIENTS} "
          f"clients, {dict(sorted(by_operation.items()))}; statuses {dict(sorted(tally.statuses.items()))}; "
          f"{conflicts} conflicts (409); {acknowledged} completions acknowledged; {tally.moved} moved, "
          f"{sum(tally.migrate_refused.values())} moves refused {dict(tally.migrate_refused)}; "
          f"{tally.published} versions published; {timer_events} timers "
          f"fired by {len(workers)} worker process(es); {len(tally.instances)} instances; stopped in "
          f"{ {name: round(s, 1) for name, s in took.items()} } s", flush=True)
    assert not tally.failures, "\n".join(tally.failures[:20])
    assert "Traceback" not in log, log[-3000:]
    assert tally.instances <= known
    assert not wrong, json.dumps(wrong, ensure_ascii=False, indent=1)[:4000]
    assert missing == 0
    assert not hanging, f"sessions left waiting on a lock or in a transaction: {hanging}"
    assert all(seconds != float("inf") for seconds in took.values()), f"a process overstayed SIGTERM: {took}"
    assert deployment.web.returncode == 0 and all(w.returncode in (0, -signal.SIGTERM) for w in deployment.workers), \
        (deployment.web.returncode, [w.returncode for w in deployment.workers])
    # Bounds low enough for a loaded machine (two shared cores: 270 to 950 answers in 20 s were seen, with
    # 35 to 121 conflicts), high enough that the clients collided and that each kind of write really ran.
    assert conflicts >= 10, f"only {conflicts} conflicts: the clients did not collide"
    assert acknowledged >= 10 and tally.moved >= 3 and tally.published >= 1 and timer_events >= 5
    assert len(workers) == 2, fired_by  # both workers fired timers side by side

