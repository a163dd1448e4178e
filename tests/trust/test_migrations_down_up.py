"""Alembic down and up on a POPULATED database (#13 part 6), on SQLite and PostgreSQL: from head, step by
step down to base and back up to head, with no error, every table that exists at a step keeping its rows,
and what the schema keeps at both ends (instances, events, users and their lanes, versions) whole after
the round trip. Each downgrade must really undo its upgrade, or the next upgrade fails."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from engine.authoring.drafts import save_draft
from engine.migrate import alembic_config
from engine.models import MailOut
from engine.service import Khanton
from tests import battery
from tests.conftest import ROOT, make_khanton

KEPT = ("instances", "events", "human_tasks", "users", "process_versions", "api_tokens", "user_lanes")


def _processes(tmp: Path) -> Path:
    folder = tmp / "processes"
    folder.mkdir()
    for key in ("budget-transfer", "monitor-and-report"):  # the first calls the second
        shutil.copy(ROOT / "processes" / f"{key}.bpmn", folder)
    return folder


def populate(khanton: Khanton) -> None:
    """Instances at different steps, users with lanes, a task draft, a procedure draft, mail waiting."""
    khanton.load_directory()
    khanton.add_school("1063010001", "โรงเรียนบ้านสาธิต", "เมืองตาก")
    khanton.add_user("officer", ["officer"], ["plan_officer"], "pass-1234", "นายทดสอบ")
    khanton.add_user("school", ["officer"], ["school"], None, school="1063010001")
    khanton.add_user("boss", ["admin"], [])
    khanton.issue_token("officer")
    officer = khanton.actor("officer")
    for fiscal_year in (2569, 2570, 2571):
        instance = khanton.start("budget-transfer", {"fiscal_year": fiscal_year}, officer)
        if fiscal_year >= 2570:
            task = khanton.task(instance["ready_tasks"][0]["id"], officer)
            khanton.save_draft(task["id"], officer, {"report_request_no": "ศธ 1/2570"})
            if fiscal_year == 2571:
                khanton.complete(task["id"], {"report_request_no": "ศธ 04173/1", "report_requested_on": "2026-10-01",
                                              "schools": [{"code": "1063010001", "name": "โรงเรียนบ้านสาธิต"}]},
                                 officer)  # a school's round is open
    with khanton.db.transaction() as session:
        save_draft(session, "budget-transfer", khanton.process_xml("budget-transfer"), {}, "officer", "ร่าง")
        session.add(MailOut(key="t-1", username="officer", address="officer@example.go.th", subject="งานใหม่",
                            body="มีงานรอ"))


def _counts(khanton: Khanton) -> dict[str, int]:
    with khanton.db.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
        return {t: int(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0) for t in sorted(tables)}


def _lanes(khanton: Khanton) -> set[tuple[Any, ...]]:
    with khanton.db.engine.connect() as connection:
        return {tuple(r) for r in connection.execute(text(
            "SELECT u.username, l.lane FROM users u JOIN user_lanes l ON l.user_id = u.id"))}


def _move(khanton: Khanton, verb: str, target: str) -> None:
    config = alembic_config(khanton.db.url)
    with khanton.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, verb)(config, target)


def test_down_to_base_and_up_again_on_a_populated_database(database_url: str, tmp_path: Path) -> None:
    """At each revision from head: one step down (the tables the lower schema keeps keep their rows); on
    SQLite, where a downgrade may copy tables, also one step up (every row the lower schema held is there
    again: nothing a downgrade moved, such as users' lanes to a JSON column in 0005, is lost on the way
    back) and down again; at base, up to head."""
    khanton = make_khanton(database_url, _processes(tmp_path), ROOT / "forms")
    try:
        populate(khanton)
        before = _counts(khanton)
        lanes = _lanes(khanton)
        assert before["instances"] == 3 and before["drafts"] == 1 and before["mail_outbox"] == 1
        script = ScriptDirectory.from_config(alembic_config(khanton.db.url))
        revisions = [r.revision for r in script.walk_revisions()]  # head first
        lost = 0
        for revision in revisions:
            _move(khanton, "downgrade", "-1")
            lower = _counts(khanton)
            changed = {t: (before[t], n) for t, n in lower.items() if t in before and n != before[t]}
            assert not changed, f"downgrade of {revision} changed the rows of tables it keeps: {changed}"
            if not khanton.db.is_sqlite:  # PostgreSQL alters in place; the round trip below is SQLite's risk
                before = {t: n for t, n in before.items() if t in lower}
                battery.add(battery.CASES)
                continue
            _move(khanton, "upgrade", revision)
            again = _counts(khanton)
            short = {t: (n, again[t]) for t, n in lower.items() if again[t] != n}
            assert not short, f"{revision} down and up again lost rows: {short}"
            if "user_lanes" in lower:
                assert _lanes(khanton) == lanes, f"{revision} down and up again: users' lanes changed"
            lost += sum(lower[t] - again[t] for t in KEPT if t in lower)
            _move(khanton, "downgrade", "-1")
            before = {t: n for t, n in before.items() if t in lower}
            battery.add(battery.CASES)
        assert set(_counts(khanton)) == set()  # base: nothing left but alembic's own table
        _move(khanton, "upgrade", "head")
        with khanton.db.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == revisions[0]
        battery.add(battery.INSTANCES, 3)
        battery.lost(lost)
        assert lost == 0
    finally:
        khanton.db.dispose()
