"""Completions per second with 1, 2, 4 and 8 clients against a real HTTP server on loopback: one
threaded web process (both databases), and `khanton serve --workers 4` (gunicorn) on PostgreSQL."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import ROOT, World
from tests.drive import data_for, scenario, user_for

CLIENTS = (1, 2, 4, 8)
WORKERS = 4


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per request would drown the figures


class _Client:
    def __init__(self, port: int, tokens: dict[str, str]) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.tokens = tokens

    def call(self, method: str, path: str, user: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[user]}", "Content-Type": "application/json"}
        self.conn.request(method, "/api/v1" + path, body=json.dumps(body) if body is not None else None,
                          headers=headers)
        response = self.conn.getresponse()
        return response.status, json.loads(response.read() or b"null")


def _work(port: int, world: World, until: float, counts: list[int], errors: list[str]) -> None:
    """Start a budget transfer and complete its first task, again and again until time is up."""
    client = _Client(port, world.tokens)
    start_data = scenario("budget-transfer").get("start", {})
    steps = scenario("budget-transfer").get("steps", {})
    while time.monotonic() < until:
        status, instance = client.call("POST", "/instances", "officer", {"process": "budget-transfer",
                                                                         "data": start_data})
        if status != 201:
            errors.append(f"start {status}")
            continue
        summary = instance["ready_tasks"][0]
        user = user_for(summary)
        _, task = client.call("GET", f"/tasks/{summary['id']}", user)
        status, _ = client.call("POST", f"/tasks/{summary['id']}/complete", user,
                                {"data": data_for(task, steps)})
        if status == 200:
            counts.append(1)
        else:
            errors.append(f"complete {status}")
    client.conn.close()


def _levels(port: int, world: World, seconds: float, label: str) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for clients in CLIENTS:
        counts: list[int] = []
        errors: list[str] = []
        until = time.monotonic() + seconds
        threads = [threading.Thread(target=_work, args=(port, world, until, counts, errors))
                   for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)
        rate = len(counts) / seconds
        results[str(clients)] = {"completions_per_s": rate, "completions": len(counts),
                                 "errors": len(errors), "error_kinds": sorted(set(errors))}
        base = results["1"]["completions_per_s"] or 1.0
        print(f"  {label}{clients} client(s): {rate:6.1f} completions/s ({len(counts)} in {seconds:.0f} s, "
              f"{rate / base:.2f}× one client), {len(errors)} error(s) {sorted(set(errors))}", flush=True)
    return results


def run(world: World, seconds: float) -> dict[str, Any]:
    server = make_server("127.0.0.1", 0, world.app, threaded=True, request_handler=_Quiet)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        return _levels(server.port, world, seconds, "")
    finally:
        server.shutdown()
        serving.join(timeout=10)


def _race(port: int, world: World, clients: int) -> list[int]:
    """`clients` clients complete one task at the same moment: one 200 and the rest 409 is right."""
    client = _Client(port, world.tokens)
    _, instance = client.call("POST", "/instances", "officer", {"process": "budget-transfer",
                                                                "data": scenario("budget-transfer").get("start", {})})
    summary = instance["ready_tasks"][0]
    _, task = client.call("GET", f"/tasks/{summary['id']}", user_for(summary))
    body = {"data": data_for(task, scenario("budget-transfer").get("steps", {}))}
    statuses: list[int] = []
    gate = threading.Barrier(clients)

    def racer() -> None:
        mine = _Client(port, world.tokens)
        gate.wait(timeout=60)
        statuses.append(mine.call("POST", f"/tasks/{summary['id']}/complete", user_for(summary), body)[0])

    threads = [threading.Thread(target=racer) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(statuses)


@contextmanager
def _gunicorn(url: str, workers: int) -> Iterator[int]:
    """`khanton serve --workers N` on a free port, against the bench's database, stopped afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        env = {**os.environ, "DATABASE_URL": url, "KHANTON_SECRET_KEY": "bench-" + os.urandom(8).hex()}
        log = Path(tmp) / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port),
                                        "--workers", str(workers)], env=env, cwd=ROOT, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            try:
                _wait_until(lambda: _answers(port), process, log)
                yield port
            finally:
                process.terminate()  # gunicorn's master stops its workers on SIGTERM
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)  # the group started here, nothing else
                    process.wait(timeout=10)


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
        return True
    except OSError:
        return False


def _wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        if ready():
            return
        if process.poll() is not None:
            raise RuntimeError("khanton serve stopped: " + log.read_text(errors="replace")[-2000:])
        time.sleep(0.1)
    raise RuntimeError("khanton serve did not answer within 60 s")


def run_workers(world: World, url: str, seconds: float, workers: int = WORKERS) -> dict[str, Any]:
    """The same load against `workers` gunicorn processes, then eight clients racing for one task."""
    with _gunicorn(url, workers) as port:
        results = _levels(port, world, seconds, f"{workers} processes, ")
        race = _race(port, world, CLIENTS[-1])
    ratio = results[str(CLIENTS[-1])]["completions_per_s"] / (results["1"]["completions_per_s"] or 1.0)
    results["ratio_8_to_1"] = {"value": ratio, "goal": 1.8, "meets_goal": ratio >= 1.8}
    results["race"] = {"statuses": race, "right": race == [200] + [409] * (CLIENTS[-1] - 1)}
    errors = sum(level["errors"] for key, level in results.items() if key.isdigit())
    print(f"  {workers} processes: 8 clients ÷ 1 = {ratio:.2f}× (goal ≥ 1.8: {'yes' if ratio >= 1.8 else 'NO'}), "
          f"{errors} error(s); 8 racing for one task: {race}", flush=True)
    return results
