"""`khanton serve --workers N` with N > 1: the app under gunicorn, one process per worker.

Each worker builds its own app (and database pool) after the fork, so no connection crosses a
process boundary; the secret key is read once, in the master, and handed to every worker, so a
session signed by one worker is accepted by all the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

# gthread: a few threads per worker, so one slow client does not hold a whole process.
THREADS_PER_WORKER = 4
# Publishing parses a diagram in a child process, bounded well under this; a request past it is stuck.
WORKER_TIMEOUT_S = 120


class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self._factory = factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._factory()


def run(factory: Callable[[], Flask], host: str, port: int, workers: int) -> None:
    """Serve until stopped (SIGTERM or Ctrl-C stop the workers gracefully)."""
    _Gunicorn(factory, {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": THREADS_PER_WORKER,
        "timeout": WORKER_TIMEOUT_S,
        "accesslog": "-",  # one line per request on stdout; %(p)s names the worker that answered
        "access_log_format": '%(h)s %(p)s "%(r)s" %(s)s %(b)s %(M)sms',
        "preload_app": False,  # build the app in each worker: database pools must not be forked
    }).run()
