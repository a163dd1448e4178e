"""Several `khanton serve` started together on a fresh folder all sign with one key, never an empty one."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from web import cli

STARTS = 8


def test_servers_started_together_share_one_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KHANTON_SECRET_KEY", raising=False)
    for round_ in range(30):  # a race needs more than one chance to show
        secret = tmp_path / f"round{round_}" / "khanton.secret"
        secret.parent.mkdir()
        monkeypatch.setattr(cli, "SECRET_FILE", secret)
        barrier = threading.Barrier(STARTS)
        keys: list[str] = []

        def start(barrier: threading.Barrier, keys: list[str]) -> None:
            barrier.wait()
            try:
                keys.append(cli._secret_key())
            except OSError as err:
                keys.append(f"error: {err}")

        threads = [threading.Thread(target=start, args=(barrier, keys)) for _ in range(STARTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(keys) == STARTS and len(set(keys)) == 1 and len(keys[0]) == 64, keys
        assert secret.read_text() == keys[0]
        assert secret.stat().st_mode & 0o077 == 0, "the key file is readable by others"
        assert [p.name for p in secret.parent.iterdir()] == ["khanton.secret"], "a temporary file was left"


def test_serve_refuses_a_number_of_workers_it_cannot_run(tmp_path: Path) -> None:
    for bad in ("0", "-3", "100000"):
        done = subprocess.run([sys.executable, "-m", "web.cli", "serve", "--workers", bad], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60, check=False,
                              env={**os.environ, "KHANTON_SECRET_KEY": "test"})
        assert done.returncode == 2
        assert f"--workers {bad}: ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง" in done.stdout, done.stdout + done.stderr
