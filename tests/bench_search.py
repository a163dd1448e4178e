"""The search box at 100,000 instances (1,000,000 events), on SQLite and PostgreSQL: milliseconds per
search, median of repeats, for a word every instance has, one instance's document number, a word none
has, as a supervisor (sees all), an officer and a school's user (the instance list's visibility rule).

    .venv/bin/python -m tests.bench_search [COUNT]      # PostgreSQL too when it runs at 127.0.0.1
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from engine.models import Instance, InstanceSearch
from engine.search import find
from engine.search.index import text_of
from tests.bench_data import generate
from tests.conftest import POSTGRES_ADMIN_URL, World, _fresh_postgres, _postgres_available

QUERIES = {"common word (all match)": "โอน", "one document number": "สพป.ตก 4321/2569",
           "no match": "ไม่มีคำนี้แน่นอน"}
PEOPLE = ("supervisor", "officer", "school")
REPEATS = 7


def _fill(world: World) -> None:
    """One search row per generated instance: the real row of the model instance, plus a number of its own."""
    with world.khanton.db.transaction() as session:
        model = text_of(session, session.get(Instance, session.scalar(select(InstanceSearch.instance_id))))
        ids = session.execute(select(Instance.id, Instance.started_at, Instance.started_by).where(
            ~Instance.id.in_(select(InstanceSearch.instance_id)))).all()
        session.execute(insert(InstanceSearch), [
            {"instance_id": iid, "started_at": at, "started_by": by, "text": f"{model}\nสพป.ตก {n}/2569"}
            for n, (iid, at, by) in enumerate(ids)])


def _time(world: World, user: str, query: str) -> tuple[float, int]:
    actor = world.khanton.actor(user)
    runs, found = [], 0
    for _ in range(REPEATS):
        began = time.perf_counter()
        with world.khanton.db.transaction(read_only=True) as session:
            found = len(find.search(session, actor, query, 21))
        runs.append((time.perf_counter() - began) * 1000)
    return statistics.median(runs), found


def run(url: str, count: int) -> None:
    world = World(url)
    try:
        print(f"{world.khanton.db.engine.dialect.name}: generating {count:,} instances…", flush=True)
        generate(world, count)
        _fill(world)
        for label, query in QUERIES.items():
            for user in PEOPLE:
                ms, found = _time(world, user, query)
                print(f"  {label:<26} {user:<11} {ms:8.1f} ms  ({found} on the first page)", flush=True)
    finally:
        world.close()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{Path(folder) / 'khanton.db'}", count)
    if _postgres_available() is None:
        url, drop = _fresh_postgres(POSTGRES_ADMIN_URL)
        try:
            run(url, count)
        finally:
            drop()


if __name__ == "__main__":
    main()
