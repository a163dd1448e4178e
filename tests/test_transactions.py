"""A failed write leaves nothing behind, and the next request works (SQLite in WAL mode)."""

from __future__ import annotations

import sqlite3

from sqlalchemy import text

from engine.db import Database
from tests.conftest import World
from tests.drive import LANE_USER, data_for, scenario, start


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(world: World) -> None:
    with world.khanton.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert int(conn.execute(text("PRAGMA busy_timeout")).scalar() or 0) >= 1000


def test_a_write_that_fails_on_a_locked_database_is_not_stored_later(world: World) -> None:
    instance = start(world, "budget-transfer")
    summary = instance["ready_tasks"][0]
    api = world.api(LANE_USER[summary["lane"]])
    task = api.get(f"/tasks/{summary['id']}").get_json()
    data = data_for(task, scenario("budget-transfer")["steps"])
    url = world.khanton.db.url
    world.khanton.db.dispose()
    world.khanton.db = Database(url, busy_timeout_ms=200)
    blocker = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        refused = api.post(f"/tasks/{summary['id']}/complete", json={"data": data})
        assert refused.status_code == 503
        assert refused.get_json()["error"]["code"] == "unavailable"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    # The lock is gone: the failed request's write must not surface with a later commit.
    still = world.api("supervisor").get(f"/instances/{instance['id']}").get_json()
    assert still["ready_tasks"] == instance["ready_tasks"]
    timeline = world.api("supervisor").get(f"/instances/{instance['id']}/timeline").get_json()
    assert [e["kind"] for e in timeline] == ["started"]
    # And the same completion now goes through, once.
    assert api.post(f"/tasks/{summary['id']}/complete", json={"data": data}).status_code == 200
    assert api.post(f"/tasks/{summary['id']}/complete", json={"data": data}).status_code == 409


def test_a_transaction_that_raises_is_rolled_back(world: World) -> None:
    from engine.models import User

    try:
        with world.khanton.db.transaction() as session:
            session.add(User(username="ghost", roles=[], lanes=[]))
            session.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with world.khanton.db.transaction(read_only=True) as session:
        assert session.query(User).filter_by(username="ghost").count() == 0
