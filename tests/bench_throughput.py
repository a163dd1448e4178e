"""Completions per second with 1, 2, 4 and 8 clients against a real HTTP server on loopback."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import World
from tests.drive import data_for, scenario, user_for

CLIENTS = (1, 2, 4, 8)


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


def run(world: World, seconds: float) -> dict[str, Any]:
    server = make_server("127.0.0.1", 0, world.app, threaded=True, request_handler=_Quiet)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    results: dict[str, Any] = {}
    try:
        for clients in CLIENTS:
            counts: list[int] = []
            errors: list[str] = []
            until = time.monotonic() + seconds
            threads = [threading.Thread(target=_work, args=(server.port, world, until, counts, errors))
                       for _ in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=seconds + 60)
            rate = len(counts) / seconds
            results[str(clients)] = {"completions_per_s": rate, "completions": len(counts),
                                     "errors": len(errors), "error_kinds": sorted(set(errors))}
            base = results["1"]["completions_per_s"] or 1.0
            print(f"  {clients} client(s): {rate:6.1f} completions/s ({len(counts)} in {seconds:.0f} s, "
                  f"{rate / base:.2f}× one client), {len(errors)} error(s) {sorted(set(errors))}", flush=True)
    finally:
        server.shutdown()
        serving.join(timeout=10)
    return results
