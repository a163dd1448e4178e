"""The real thing: the `khanton` command, a served app over real HTTP, killed and started again."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.drive import LANE_USER, data_for, scenario

KHANTON = [sys.executable, "-m", "web.cli"]
ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run(KHANTON + args, env=env, input=stdin, capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(env: dict[str, str], port: int, cwd: Path = ROOT) -> Iterator[str]:
    process = subprocess.Popen(KHANTON + ["serve", "--port", str(port)], env=env, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/openapi.json", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        process.kill()
        process.wait(timeout=10)


def _call(method: str, url: str, token: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_state_survives_killing_the_server_between_steps(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'office.db'}", "KHANTON_SECRET_KEY": "test"}
    assert "budget-transfer: โหลดจากไฟล์เป็นรุ่น 1" in _run(["init"], env)
    tokens = {}
    # Schools report their own spending in budget-transfer's first step: one school, its user.
    _run(["school", "add", "1063010001", "--name", "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)"], env)
    for user, lanes in (("officer", ["plan_officer"]), ("committee", ["committee"]), ("school", ["school"])):
        school = ["--school", "1063010001"] if user == "school" else []
        _run(["user", "add", user, "--role", "officer", "--lane", *lanes, *school, "--password-stdin"], env, "pw\n")
        tokens[user] = _run(["token", user], env).strip()
    steps = dict(scenario("budget-transfer")["steps"])
    steps["request_school_reports"] = {"schools": [{"code": "1063010001", "name": "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)"}]}
    port = _free_port()
    instance_id = ""
    for _life in range(3):  # three server lives, two steps in each
        with _server(env, port) as base:
            if not instance_id:
                status, instance = _call("POST", f"{base}/instances", tokens["officer"],
                                         {"process": "budget-transfer", "data": scenario("budget-transfer")["start"]})
                assert status == 201
                instance_id = instance["id"]
            for _ in range(2):
                status, instance = _call("GET", f"{base}/instances/{instance_id}", tokens["officer"])
                summary = instance["ready_tasks"][0]
                token = tokens[LANE_USER[summary["lane"]]]
                _, task = _call("GET", f"{base}/tasks/{summary['id']}", token)
                status, after = _call("POST", f"{base}/tasks/{summary['id']}/complete", token,
                                      {"data": data_for(task, steps)})
                assert status == 200, after
    with _server(env, port) as base:
        status, timeline = _call("GET", f"{base}/instances/{instance_id}/timeline", tokens["officer"])
        steps_done = [e["step"] for e in timeline if e["kind"] == "completed"]
        assert steps_done == ["request_school_reports", "school_spending_report", "study_spending",
                              "consider_leftover", "analyse_spending", "set_guidelines"]
        status, instance = _call("GET", f"{base}/instances/{instance_id}", tokens["officer"])
        assert instance["status"] == "running"


def test_a_signed_in_person_stays_signed_in_across_a_restart(tmp_path: Path) -> None:
    """Without KHANTON_SECRET_KEY, `khanton serve` keeps its key in ./khanton.secret, made once."""
    env = {k: v for k, v in os.environ.items() if k != "KHANTON_SECRET_KEY"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'office.db'}"
    _run(["init"], env)
    _run(["user", "add", "somsri", "--role", "officer", "--lane", "plan_officer", "--password-stdin"], env, "pw\n")
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    port = _free_port()
    with _server(env, port, cwd=tmp_path) as base:
        site = base.removesuffix("/api/v1")
        login = browser.open(f"{site}/login", timeout=30).read().decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert csrf
        form = urllib.parse.urlencode({"username": "somsri", "password": "pw", "csrf_token": csrf.group(1)})
        assert browser.open(f"{site}/login", data=form.encode(), timeout=30).url == f"{site}/"
    secret = tmp_path / "khanton.secret"
    assert secret.stat().st_mode & 0o077 == 0, "the key file is readable by others"
    key = secret.read_text()
    with _server(env, port, cwd=tmp_path) as base:
        inbox = browser.open(f"{site}/", timeout=30)
        assert inbox.url == f"{site}/" and "กล่องงาน" in inbox.read().decode()
    assert secret.read_text() == key
