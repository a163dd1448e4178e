"""Faults (#13, part 4): the server killed with SIGKILL in the middle of requests, under load.

The real server runs as a subprocess (`khanton serve`: Werkzeug on SQLite, gunicorn with two workers
on PostgreSQL). Client threads start budget transfers, upload attachments and complete their steps as
the right person for each lane, over real HTTP, and note every 200/201 they are given. Meanwhile the
whole process group is killed with SIGKILL at seeded random moments (requests in flight) and started
again, and the clients go on. Afterwards, for every instance: its state, task rows, events and search
row tell one story (tests/trust/faults_check.py), it still reads over the API, and every acknowledged
start, completion and upload is there.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests import battery
from tests.conftest import ROOT, World, WorldTemplate, _fresh_postgres
from tests.drive import SIGNED_PDF, data_for, needs_signed_document, scenario, user_for
from tests.test_cli_server import KHANTON, _free_port

from . import faults_check
from .faults_check import Acknowledged

KILLS = 5
SEED = 1302
CLIENTS = 4
LOAD_S = (0.4, 1.2)  # load between two kills, drawn per kill
READY_S = 30  # a restarted server answers within this
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError)
# budget-transfer and the procedure it calls: enough for the load, quick to publish on PostgreSQL
PROCEDURES = ("budget-transfer", "monitor-and-report")


class Killed(Exception):
    """The answer never came: the server died with the request in flight (its outcome unknown), or
    was down when it was sent (`refused`)."""

    def __init__(self, refused: bool) -> None:
        super().__init__("refused" if refused else "cut off")
        self.refused = refused


def _http(method: str, url: str, token: str, body: Any = None, upload: bytes | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    data: bytes | None = None
    if upload is not None:
        boundary = uuid.uuid4().hex
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        data = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="signed.pdf"\r\n'
                f"Content-Type: application/pdf\r\n\r\n").encode() + upload + f"\r\n--{boundary}--\r\n".encode()
    elif body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")
    except NETWORK_ERRORS as err:
        reason = err.reason if isinstance(err, urllib.error.URLError) else err
        raise Killed(refused=isinstance(reason, ConnectionRefusedError)) from err


class Server:
    """`khanton serve` in its own process group, killed and started again on the same port."""

    def __init__(self, url: str, folder: Path, workers: int) -> None:
        self.env = {**os.environ, "DATABASE_URL": url, "KHANTON_SECRET_KEY": "faults"}
        self.port = _free_port()
        self.api = f"http://127.0.0.1:{self.port}/api/v1"
        self.folder = folder
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None
        self.lives = 0

    def start(self) -> None:
        log = (self.folder / f"serve-{self.lives}.log").open("wb")
        self.lives += 1
        self.process = subprocess.Popen(KHANTON + ["serve", "--port", str(self.port), "--workers", str(self.workers)],
                                        env=self.env, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.api}/openapi.json", timeout=2).close()
                return
            except OSError:
                assert self.process.poll() is None, (self.folder / f"serve-{self.lives - 1}.log").read_text()
                time.sleep(0.05)
        raise AssertionError(f"the server did not answer within {READY_S} s")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)  # the group this test started: master and workers
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.kill()


class Clients:
    """Threads that drive budget transfers as fast as the server answers, noting what was acknowledged."""

    def __init__(self, api: str, tokens: dict[str, str]) -> None:
        self.api = api
        self.tokens = tokens
        self.acked = Acknowledged()
        self.statuses: Counter[int] = Counter()
        self.cut_off = 0  # requests in flight when the server died: their outcome unknown
        self.refused = 0  # requests sent while it was down
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.steps = scenario("budget-transfer")["steps"]
        self.start_data = scenario("budget-transfer")["start"]

    def _note(self, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1

    def _start(self, mine: list[str]) -> None:
        status, answer = _http("POST", f"{self.api}/instances", self.tokens["officer"],
                               {"process": "budget-transfer", "data": self.start_data})
        self._note(status)
        if status == 201:
            with self.lock:
                self.acked.starts.add(answer["id"])
            mine.append(answer["id"])

    def _step(self, instance_id: str, rng: random.Random, mine: list[str]) -> None:
        status, instance = _http("GET", f"{self.api}/instances/{instance_id}", self.tokens["officer"])
        self._note(status)
        if status != 200 or instance["status"] != "running" or not instance["ready_tasks"]:
            mine.remove(instance_id)
            return
        summary = rng.choice(instance["ready_tasks"])
        token = self.tokens[user_for(summary)]
        status, task = _http("GET", f"{self.api}/tasks/{summary['id']}", token)
        self._note(status)
        if status != 200:
            return
        if needs_signed_document(task) or rng.random() < 0.5:  # an upload before about half the steps
            status, attachment = _http("POST", f"{self.api}/tasks/{task['id']}/attachments", token,
                                       upload=SIGNED_PDF + os.urandom(rng.randrange(64, 4096)))
            self._note(status)
            if status == 201:
                with self.lock:
                    self.acked.uploads[attachment["id"]] = task["id"]
        status, _ = _http("POST", f"{self.api}/tasks/{task['id']}/complete", token,
                          {"data": data_for(task, self.steps)})
        self._note(status)
        if status == 200:
            with self.lock:
                self.acked.completions[task["id"]] = instance_id

    def run(self, seed: int) -> None:
        rng = random.Random(seed)
        mine: list[str] = []
        while not self.stopping.is_set():
            try:
                if len(mine) < 3 or rng.random() < 0.15:
                    self._start(mine)
                else:
                    self._step(rng.choice(mine), rng, mine)
            except Killed as killed:
                with self.lock:
                    self.refused += killed.refused
                    self.cut_off += not killed.refused
                time.sleep(0.2)  # the server is down: try again soon, as a person would (not a busy loop)

    @contextmanager
    def running(self) -> Iterator[None]:
        threads = [threading.Thread(target=self.run, args=(SEED + n,), daemon=True) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            self.stopping.set()
            for thread in threads:
                thread.join(timeout=60)
            assert not any(thread.is_alive() for thread in threads), "a client hung"


def _sqlite_world(template: WorldTemplate, folder: Path) -> tuple[str, dict[str, str], Any]:
    world = World.copied(template, folder / "office.db")
    url, tokens = world.khanton.db.url, dict(world.tokens)
    world.close()
    return url, tokens, lambda: None


def _postgres_world(base: str, folder: Path) -> tuple[str, dict[str, str], Any]:
    url, drop = _fresh_postgres(base)
    processes = folder / "processes"
    processes.mkdir()
    for key in PROCEDURES:
        shutil.copy(ROOT / "processes" / f"{key}.bpmn", processes)
    world = World(url, processes_dir=processes)
    tokens = dict(world.tokens)
    world.close()
    return url, tokens, drop


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_sigkill_under_load_loses_no_acknowledged_write_and_leaves_no_instance_between_steps(
        db: str, world_template: WorldTemplate, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if db == "sqlite":
        url, tokens, drop = _sqlite_world(world_template, tmp_path)
    else:
        url, tokens, drop = _postgres_world(request.getfixturevalue("postgres_url"), tmp_path)
    server = Server(url, tmp_path, workers=1 if db == "sqlite" else 2)
    rng = random.Random(SEED)
    try:
        server.start()
        clients = Clients(server.api, tokens)
        with clients.running():
            for _ in range(KILLS):
                time.sleep(rng.uniform(*LOAD_S))
                server.kill()
                battery.add(battery.FAULTS)
                server.start()
            time.sleep(LOAD_S[1])  # the work goes on after the last restart
        # Every instance (those whose start was cut off included) still reads over the API.
        checked, found = faults_check.problems(url)
        for instance_id in faults_check.instance_ids(url):
            status, _ = _http("GET", f"{server.api}/instances/{instance_id}/timeline", tokens["supervisor"])
            assert status == 200, f"instance {instance_id} unreadable after the kills: {status}"
        server.stop()
        lost = faults_check.missing(url, clients.acked)
        battery.add(battery.INSTANCES, checked)
        battery.add(battery.CASES, sum(clients.statuses.values()))
        battery.lost(len(lost))
        print(f"\n{db}: {KILLS} kills, {checked} instances, answers {dict(clients.statuses)}, "
              f"{clients.cut_off} cut off in flight, {clients.refused} refused while down, "
              f"acknowledged: {len(clients.acked.starts)} starts, "
              f"{len(clients.acked.completions)} completions, {len(clients.acked.uploads)} uploads")
        assert not lost, lost
        assert not found, "\n".join(found)
        assert clients.statuses[500] == 0, clients.statuses
        assert clients.cut_off >= 1, "no request was in flight when the server was killed"
        assert len(clients.acked.completions) >= KILLS and clients.acked.uploads, clients.statuses
    finally:
        server.stop()
        drop()
