"""The real thing, several processes: `khanton serve --workers 4` on PostgreSQL over real HTTP.

Eight client threads complete tasks at once; every answer is 200 (or 409 where two race for one
task), never a 5xx; a session signed in on one worker is accepted by the others. It prints the
throughput with 1 and 8 clients (the issue's goal: 8 ≥ 1.8 × 1; reported, not asserted, since two
shared cores decide it more than the code).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import _fresh_postgres
from tests.drive import data_for, scenario
from tests.test_cli_server import KHANTON, _call, _free_port, _run

WORKERS = 4
CLIENTS = 8
PER_CLIENT = 16
DEADLINE_S = 120  # the whole test; every wait below is bounded by it


@contextmanager
def _workers(env: dict[str, str], port: int, cwd: Path, log: Path) -> Iterator[str]:
    with log.open("wb") as out:
        process = subprocess.Popen(KHANTON + ["serve", "--port", str(port), "--workers", str(WORKERS)],
                                   env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        site = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"{site}/api/v1/openapi.json", timeout=1)
                    break
                except OSError:
                    assert process.poll() is None, log.read_text()
                    time.sleep(0.1)
            yield site
        finally:
            process.terminate()  # gunicorn's master stops its workers on SIGTERM
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the group this test started, nothing else
                process.wait(timeout=10)


def _sign_in(site: str, user: str, password: str) -> urllib.request.OpenerDirector:
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    login = browser.open(f"{site}/login", timeout=30).read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert csrf
    form = urllib.parse.urlencode({"username": user, "password": password, "csrf_token": csrf.group(1)})
    assert browser.open(f"{site}/login", data=form.encode(), timeout=30).url == f"{site}/"
    return browser


def _complete_all(api: str, token: str, task_ids: list[str], data: dict[str, Any], clients: int,
                  statuses: list[int]) -> float:
    """Complete the tasks from `clients` threads; returns completions per second."""
    chunks = [task_ids[n::clients] for n in range(clients)]

    def work(chunk: list[str]) -> None:
        for task_id in chunk:
            status, _ = _call("POST", f"{api}/tasks/{task_id}/complete", token, {"data": data})
            statuses.append(status)

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(work, chunk) for chunk in chunks]:
            future.result(timeout=DEADLINE_S)
    return len(task_ids) / (time.perf_counter() - began)


def test_four_workers_on_postgresql_serve_eight_clients(postgres_url: str, tmp_path: Path) -> None:
    url, drop = _fresh_postgres(postgres_url)
    try:
        env = {k: v for k, v in os.environ.items() if k != "KHANTON_SECRET_KEY"}
        env["DATABASE_URL"] = url
        _run(["init"], env)
        # budget-transfer begins by asking the schools the scenario names: they must be registered
        for code, name in (("1063010001", "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)"),
                           ("1063010002", "โรงเรียนบ้านสาธิตวังเจ้า (สาธิต)")):
            _run(["school", "add", code, "--name", name], env)
        _run(["user", "add", "somsri", "--role", "officer", "--lane", "plan_officer", "--password-stdin"],
             env, "pw\n")
        token = _run(["token", "somsri"], env).strip()
        port = _free_port()
        log = tmp_path / "serve.log"
        with _workers(env, port, tmp_path, log) as site:
            api = f"{site}/api/v1"
            # The key file is made once, by the master, before any worker starts.
            assert (tmp_path / "khanton.secret").read_text().strip()

            # A session made by whichever worker answered the sign-in is accepted by all of them.
            browser = _sign_in(site, "somsri", "pw")
            inbox: list[tuple[str, int]] = []
            lock = threading.Lock()

            def open_inbox(_: int) -> None:
                answer = browser.open(f"{site}/", timeout=30)
                with lock:
                    inbox.append((answer.url, answer.status))

            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(open_inbox, range(40), timeout=DEADLINE_S))
            assert inbox == [(f"{site}/", 200)] * 40, inbox  # never sent back to /login
            inbox_pids = {line.split()[1] for line in log.read_text().splitlines()
                          if '"GET / HTTP' in line and " 200 " in line}
            assert len(inbox_pids) >= 2, f"all inbox requests went to one worker: {inbox_pids}"

            start = scenario("budget-transfer")["start"]
            statuses: list[int] = []

            def new_task(_: int) -> str:
                status, instance = _call("POST", f"{api}/instances", token,
                                         {"process": "budget-transfer", "data": start})
                statuses.append(status)
                return str(instance["ready_tasks"][0]["id"])

            with ThreadPoolExecutor(CLIENTS) as pool:
                tasks = list(pool.map(new_task, range(PER_CLIENT * (CLIENTS + 1) + 1), timeout=DEADLINE_S))
            assert set(statuses) == {201}, statuses
            _, form = _call("GET", f"{api}/tasks/{tasks[0]}", token)
            data = data_for(form, scenario("budget-transfer")["steps"])

            statuses = []
            one = _complete_all(api, token, tasks[:PER_CLIENT], data, 1, statuses)
            eight = _complete_all(api, token, tasks[PER_CLIENT:-1], data, CLIENTS, statuses)
            assert set(statuses) == {200}, statuses

            # Eight clients race for one task, each answer from any worker: one 200, the rest 409.
            racers: list[int] = []
            _complete_all(api, token, [tasks[-1]] * CLIENTS, data, CLIENTS, racers)
            assert sorted(racers) == [200] + [409] * (CLIENTS - 1), racers

            print(f"\nthroughput, {WORKERS} workers on PostgreSQL: 1 client {one:.1f} completions/s, "
                  f"{CLIENTS} clients {eight:.1f} completions/s, ratio {eight / one:.2f} (goal ≥ 1.8)")
        assert not [line for line in log.read_text().splitlines() if re.search(r'" 5\d\d ', line)]
    finally:
        drop()
