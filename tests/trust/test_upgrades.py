"""Upgrades from released versions (#13 part 6): each database in tests/data/upgrades/ was made by a
released Khanton's own code (scripts/make_upgrade_fixtures.py); today's `khanton init` path upgrades it,
and then the schema is the models' schema, nothing is lost (instances, events, users, attachments), every
instance loads and shows on the API and the supervisor's pages, due timers fire, and every ready task can
be completed until each instance ends."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from engine.form_samples import sample
from engine.migrate import alembic_config
from engine.models import Base
from engine.service import Khanton
from engine.time.firing import fire_due
from tests import battery
from tests.conftest import ROOT, USERS, World
from tests.drive import attach_signed, data_for, scenario, user_for
from tests.web.conftest import PASSWORD, Page

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "upgrades"
PROCEDURES = ("budget-transfer", "monitor-and-report", "action-plan-evaluation")  # what the fixtures ran
COUNTED = ("instances", "events", "users", "human_tasks", "attachments", "api_tokens")
MAX_STEPS = 40
# Driven to their end: the oldest release with procedures and the last before today. The
# others complete one step of every running instance (the whole run would add a minute to `make test`).
TO_THE_END = {"0002", "0016"}


def _load(sql: Path, db_file: Path) -> None:
    connection = sqlite3.connect(db_file)
    try:
        connection.executescript(sql.read_text(encoding="utf-8"))
    finally:
        connection.close()


def _rows(khanton: Khanton) -> dict[str, set[Any]]:
    """The ids of every counted table's rows (what must all be there after the upgrade)."""
    rows: dict[str, set[Any]] = {}
    with khanton.db.engine.connect() as connection:
        tables = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
        for table in COUNTED:
            if table in tables:
                rows[table] = set(connection.execute(text(f"SELECT id FROM {table}")).scalars())
    return rows


def _world(khanton: Khanton, url: str) -> World:
    """A World over the upgraded file: the fixture's users (the test area's), with today's tokens."""
    world = World.__new__(World)
    world.khanton = khanton
    world._make_app(url)  # noqa: SLF001 - the conftest's own way to build the app over a database
    world.tokens = {}
    with khanton.db.engine.connect() as connection:
        present = set(connection.execute(text("SELECT username FROM users")).scalars())
    for name in USERS:
        if name in present:
            world.tokens[name] = khanton.issue_token(name)
    world.passwords_set = True
    return world


def _merged(sampled: Any, given: Any) -> Any:
    """Today's scenario values, completed with what the old form also requires (made from that form)."""
    if isinstance(sampled, dict) and isinstance(given, dict):
        merged = {**sampled, **{k: _merged(sampled.get(k), v) for k, v in given.items()}}
        if "leftover" not in given and {"leftover", "allocated", "spent"} <= set(merged):
            merged["leftover"] = merged["allocated"] - merged["spent"]  # older forms asked for it; later checked
        return merged
    if isinstance(sampled, list) and sampled and isinstance(given, list):
        return [_merged(sampled[0], item) for item in given]
    return given


def _step(world: World, instance: dict[str, Any]) -> dict[str, Any]:
    """Complete the first ready task as tests/drive.py does; an old version's form may ask for fields
    today's scenario values do not carry, so then with values made from that version's own form."""
    summary = instance["ready_tasks"][0]
    api = world.api(user_for(summary))
    task = api.get(f"/tasks/{summary['id']}").get_json()
    attach_signed(api, task)
    response, refusals = None, list[Any]()
    given = data_for(task, scenario(instance["process"]).get("steps", {}))
    for data in (given, _merged(sample(task["form"]), given), sample(task["form"])):
        if "decision" in task["form"].get("properties", {}):
            data["decision"] = "approved"
        response = api.post(f"/tasks/{summary['id']}/complete", json={"data": data})
        if response.status_code == 200:
            break
        refusals.append(response.get_json()["error"].get("details"))
    assert response is not None and response.status_code == 200, (task["step"], refusals)
    after: dict[str, Any] = world.api("officer").get(f"/instances/{instance['id']}").get_json()
    return after


@pytest.fixture(scope="module", params=sorted(p.stem for p in FIXTURES.glob("*.sql")))
def upgraded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Each fixture upgraded once; pytest runs both tests on it in file order (the check of what was kept
    first, then the driving)."""
    tmp_path = tmp_path_factory.mktemp(f"upgrade-{request.param}")
    db_file = tmp_path / "khanton.db"
    _load(FIXTURES / f"{request.param}.sql", db_file)
    url = f"sqlite:///{db_file}"
    processes = tmp_path / "processes"
    processes.mkdir()
    for key in PROCEDURES:
        shutil.copy(ROOT / "processes" / f"{key}.bpmn", processes)
    khanton = Khanton(url, processes, ROOT / "forms")
    before = _rows(khanton)
    khanton.upgrade_schema()  # `khanton init`: the migrations, then the procedures' files
    khanton.load_directory()
    world = _world(khanton, url)
    yield request.param, world, before
    world.close()


def test_an_old_database_upgrades_to_the_models_schema_and_keeps_everything(upgraded: Any) -> None:
    name, world, before = upgraded
    khanton = world.khanton
    with khanton.db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        head = ScriptDirectory.from_config(alembic_config(str(khanton.db.url))).get_current_head()
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    after = _rows(khanton)
    missing = sum(len(ids - after.get(table, set())) for table, ids in before.items())
    battery.lost(missing)
    assert missing == 0, {t: sorted(ids - after.get(t, set()))[:5] for t, ids in before.items()}
    assert after["users"], name


def test_every_instance_loads_shows_fires_its_timers_and_runs_to_its_end(upgraded: Any) -> None:
    name, world, before = upgraded
    ids = sorted(before.get("instances", set()))
    if not ids:
        print(f"{name}: this release had no procedures; its users and tokens are checked above")
        return
    supervisor = world.api("supervisor")
    khanton = world.khanton
    khanton.set_password("supervisor", PASSWORD)
    page = Page(world.app.test_client())
    assert page.sign_in("supervisor").status_code == 302
    for instance_id in ids:
        assert supervisor.get(f"/instances/{instance_id}").status_code == 200, instance_id
        assert supervisor.get(f"/instances/{instance_id}/timeline").status_code == 200, instance_id
        assert page.get(f"/instances/{instance_id}").status_code == 200, instance_id
    assert page.get("/monitor").status_code == 200
    for instance_id in ids:
        assert instance_id in page.get("/monitor?status=").get_data(as_text=True) or len(ids) > 20
    # Timers: whatever was pending fires (a week from now every deadline of these steps is past or not).
    with khanton.db.engine.connect() as connection:
        pending = connection.execute(text("SELECT count(*) FROM timers WHERE status = 'pending'")).scalar() or 0
    fire_due(khanton.db, "upgrade-test", now=datetime.now(UTC) + timedelta(days=400))
    with khanton.db.engine.connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM timers WHERE status = 'pending' AND due_at < :t"),
                                  {"t": datetime.now(UTC) + timedelta(days=400)}).scalar() or 0
    assert left == 0, f"{name}: {left} of {pending} due timers did not fire"
    officer = world.api("officer")
    for instance_id in ids:
        instance = officer.get(f"/instances/{instance_id}").get_json()
        for _ in range(MAX_STEPS if name in TO_THE_END else 1):
            if instance["status"] != "running" or not instance["ready_tasks"]:
                break
            instance = _step(world, instance)
        if name in TO_THE_END:
            assert instance["status"] in ("completed", "rejected"), (name, instance_id, instance["status"],
                                                                     instance["ready_tasks"][:1])
    battery.add(battery.INSTANCES, len(ids))
    battery.add(battery.CASES)

