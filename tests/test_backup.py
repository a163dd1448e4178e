"""Backups as docs/deploy.md tells an operator to take them: an online copy of the SQLite file
while the app is serving and writing, restored into a new file that the app then serves from."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.conftest import World, _fresh_postgres, make_khanton
from tests.drive import data_for, scenario, start
from tests.test_cli_server import _call, _free_port, _run, _server


def _python_backup(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        # In one step: a read transaction, which WAL lets writers go on beside. A backup in several
        # steps restarts whenever the app writes between them, and may never finish in a busy office.
        live.backup(copy)
    live.close()
    copy.close()


def _cli_backup(source: Path, target: Path) -> None:
    subprocess.run(["sqlite3", str(source), f".backup '{target}'"], check=True, timeout=60)


@pytest.mark.parametrize("backup", [
    _python_backup,
    pytest.param(_cli_backup, marks=pytest.mark.skipif(not shutil.which("sqlite3"), reason="no sqlite3 command")),
], ids=["python", "sqlite3-cli"])
def test_online_backup_while_serving_restores_the_same_instances(tmp_path: Path, backup: object) -> None:
    live = tmp_path / "office.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{live}", "KHANTON_SECRET_KEY": "test"}
    _run(["init"], env)
    # budget-transfer begins by asking the schools the scenario names: they must be registered
    for code, name in (("1063010001", "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)"),
                           ("1063010002", "โรงเรียนบ้านสาธิตวังเจ้า (สาธิต)")):
        _run(["school", "add", code, "--name", name], env)
    _run(["user", "add", "somsri", "--role", "officer", "--lane", "plan_officer", "--password-stdin"], env, "pw\n")
    token = _run(["token", "somsri"], env).strip()
    start = {"process": "budget-transfer", "data": scenario("budget-transfer")["start"]}
    copy = tmp_path / "backup.db"
    with _server(env, _free_port()) as api:
        before = []
        for _ in range(20):
            status, instance = _call("POST", f"{api}/instances", token, start)
            assert status == 201
            before.append(instance["id"])
        during: list[str] = []
        stop = threading.Event()

        def keep_writing() -> None:  # an office at work while the backup runs
            while not stop.is_set() and len(during) < 400:
                status, instance = _call("POST", f"{api}/instances", token, start)
                assert status == 201
                during.append(instance["id"])

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            for _ in range(600):  # back up while writes are going on, not before the first
                if len(during) >= 3:
                    break
                time.sleep(0.05)
            assert callable(backup)
            backup(live, copy)
        finally:
            stop.set()
            writer.join(timeout=60)
        assert during, "nothing was written while the backup ran"

    restored = tmp_path / "restored" / "office.db"  # restore: the copy becomes a new database file
    restored.parent.mkdir()
    shutil.copyfile(copy, restored)
    with sqlite3.connect(restored) as check:
        assert check.execute("pragma integrity_check").fetchone() == ("ok",)
    check.close()

    env_restored = {**env, "DATABASE_URL": f"sqlite:///{restored}"}
    _run(["init"], env_restored)  # what an operator runs after a restore: upgrades if needed, loads nothing twice
    with _server(env_restored, _free_port()) as api:
        ids: set[str] = set()
        for offset in range(0, 1000, 500):
            status, listed = _call("GET", f"{api}/instances?limit=500&offset={offset}", token)
            assert status == 200, listed
            ids |= {item["id"] for item in listed}
        assert set(before) <= ids, "an instance acknowledged before the backup is missing"
        assert ids <= set(before) | set(during), "the restored file holds an instance nobody made"
        # It is a working database, not just a readable one: the restored instances go on.
        status, instance = _call("GET", f"{api}/instances/{before[0]}", token)
        assert status == 200 and instance["data"]["title"] == start["data"]["title"]
        task_id = instance["ready_tasks"][0]["id"]
        _, task = _call("GET", f"{api}/tasks/{task_id}", token)
        status, after = _call("POST", f"{api}/tasks/{task_id}/complete", token,
                              {"data": data_for(task, scenario("budget-transfer")["steps"])})
        assert status == 200, after


def test_pg_dump_restored_into_a_new_database_holds_the_same_instances(postgres_url: str) -> None:
    for tool in ("pg_dump", "pg_restore"):
        if not shutil.which(tool):
            pytest.skip(f"no {tool} command")
    url, drop = _fresh_postgres(postgres_url)
    schema = url.rsplit("%3D", 1)[1]
    restored_db = "khanton_restore_" + uuid.uuid4().hex[:8]
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    world = World(url)
    try:
        made = sorted(start(world, "budget-transfer")["id"] for _ in range(5))
        plain = make_url(url).set(drivername="postgresql", query={})
        dump = subprocess.run(["pg_dump", "--format=custom", f"--schema={schema}",
                               plain.render_as_string(hide_password=False)],
                              capture_output=True, check=True, timeout=120).stdout
        with admin.connect() as conn:
            conn.execute(text(f"create database {restored_db}"))
        target = plain.set(database=restored_db)
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={target.render_as_string(hide_password=False)}"],
                       input=dump, check=True, timeout=120, capture_output=True)
        restored_url = make_url(url).set(database=restored_db).render_as_string(hide_password=False)
        restored = make_khanton(restored_url)  # as after a restore: the schema is already current
        try:
            supervisor = restored.actor("supervisor")
            listed = restored.instances(supervisor, limit=500)
            assert sorted(item["id"] for item in listed) == made
            assert restored.instance(made[0], supervisor)["ready_tasks"]
        finally:
            restored.db.dispose()
    finally:
        world.close()
        with admin.connect() as conn:
            conn.execute(text(f"drop database if exists {restored_db} with (force)"))
        admin.dispose()
        drop()
