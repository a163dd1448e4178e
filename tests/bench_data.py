"""Many instances and events, fast: copies of one real instance's rows, written with bulk INSERTs
(executemany), not through the engine, so 100,000 instances take a minute, not hours."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, text

from engine.models import Base, Event, HumanTask, Instance
from engine.read import statistics
from tests.conftest import World
from tests.drive import start

CHUNK = 5_000
EVENTS_PER_INSTANCE = 10
ACTORS = ("officer", "committee", "head", "director", "someone_else")


def _rows(world: World, instance_id: str) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    with world.khanton.db.transaction(read_only=True) as session:
        conn = session.connection()
        instance = dict(conn.execute(select(Instance.__table__).where(Instance.id == instance_id)).mappings().one())
        tasks = [dict(r) for r in conn.execute(select(HumanTask.__table__).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "ready")).mappings()]
        events = [dict(r) for r in conn.execute(select(Event.__table__).where(
            Event.instance_id == instance_id)).mappings()]
    return instance, tasks, events


def generate(world: World, instances: int, analyze: bool = True) -> dict[str, Any]:
    """`instances` running budget transfers, each with one ready task and EVENTS_PER_INSTANCE events;
    with `analyze`, the statistics each database would have after such growth (without: SQLite's are
    what they were before the load, e.g. none, which the plan tests take as the worst case)."""
    began = time.perf_counter()
    model, tasks, events = _rows(world, start(world, "budget-transfer")["id"])
    events = [e for e in events if e["kind"] == "started"][:1] or events[:1]
    written = 0
    while written < instances:
        batch = min(CHUNK, instances - written)
        new_instances, new_tasks, new_events = [], [], []
        for n in range(written, written + batch):
            iid = str(uuid.uuid4())
            when = model["started_at"] - timedelta(minutes=n)
            new_instances.append(model | {"id": iid, "started_at": when, "updated_at": when})
            new_tasks += [t | {"id": str(uuid.uuid4()), "instance_id": iid, "created_at": when} for t in tasks]
            new_events += [events[0] | {"id": None, "instance_id": iid, "at": when + timedelta(seconds=k),
                                        "actor": ACTORS[(n + k) % len(ACTORS)]}
                           for k in range(EVENTS_PER_INSTANCE)]
        for event in new_events:
            del event["id"]
        with world.khanton.db.transaction() as session:
            conn = session.connection()
            conn.execute(insert(Instance), new_instances)
            if new_tasks:
                conn.execute(insert(HumanTask), new_tasks)
            conn.execute(insert(Event), new_events)
        written += batch
        print(f"    {written:>9,} instances, {written * EVENTS_PER_INSTANCE:>10,} events "
              f"({time.perf_counter() - began:.0f} s)", flush=True)
    if world.khanton.db.engine.dialect.name == "postgresql" and analyze:
        # Autovacuum would vacuum and analyze these tables within a minute of such a load (PostgreSQL 13+
        # vacuums after inserts too, which lets index-only scans skip the heap); do it now rather than wait,
        # and where autovacuum is off, as on some test servers, do what it would have done.
        with world.khanton.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE " + ", ".join(Base.metadata.tables)))  # this schema's, no other
    elif analyze:
        # What the application's own refresh (engine/read/statistics.py) does within INTERVAL_S of a
        # connection's work: an office's months of growth, loaded in a minute here, would have had it.
        raw = world.khanton.db.engine.raw_connection()
        try:
            statistics.refresh(raw.driver_connection)
        finally:
            raw.close()
        world.khanton.db.engine.dispose()
    seconds = time.perf_counter() - began
    return {"instances": instances, "events": instances * EVENTS_PER_INSTANCE, "seconds": seconds}
