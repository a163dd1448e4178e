"""`khanton init` run again and again, as `make run` does, over an office's own folders: it loads a file
only when the file changed, and never over a newer version an analyst published (issue 7, point 5)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import publishing
from engine.errors import Conflict
from engine.loading import Action
from engine.models import ProcessVersion
from engine.service import Khanton
from engine.sources import SYSTEM, source_of
from tests.conftest import ROOT
from web import create_app

KHANTON = [sys.executable, "-m", "web.cli"]
KEYS = ("budget-transfer", "monitor-and-report")  # the first calls the second
PROCESS_LINE = '<bpmn:process id="budget-transfer" name="'


@dataclass
class Office:
    """An office's own folders outside the install, and its database."""

    processes: Path
    forms: Path
    env: dict[str, str]
    cwd: Path

    def khanton(self, *args: str, code: int = 0) -> str:
        done = subprocess.run([*KHANTON, *args], env=self.env, cwd=self.cwd, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == code, done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout

    def line(self, output: str, key: str) -> str:
        [line] = [line for line in output.splitlines() if line.startswith(f"{key}: ")]
        return line

    def versions(self, key: str = "budget-transfer") -> list[tuple[int, str]]:
        khanton = Khanton(self.env["DATABASE_URL"], self.processes, self.forms)
        with khanton.db.transaction(read_only=True) as session:
            rows = session.execute(select(ProcessVersion.version, ProcessVersion.published_by)
                                   .where(ProcessVersion.key == key).order_by(ProcessVersion.version))
            found = [(v, by) for v, by in rows]
        khanton.db.dispose()
        return found

    def rename(self, name: str) -> None:
        """Edit the procedure's file as an operator would: its name changes."""
        path = self.processes / "budget-transfer.bpmn"
        xml = path.read_text(encoding="utf-8")
        path.write_text(re.sub(re.escape(PROCESS_LINE) + r'[^"]*"', f'{PROCESS_LINE}{name}"', xml, count=1),
                        encoding="utf-8")


@pytest.fixture
def office(database_url: str, tmp_path: Path) -> Office:
    processes, forms = tmp_path / "office" / "procedures", tmp_path / "office" / "forms"
    processes.mkdir(parents=True)
    for key in KEYS:
        shutil.copy(ROOT / "processes" / f"{key}.bpmn", processes)
        shutil.copytree(ROOT / "forms" / key, forms / key)
    env = {**os.environ, "DATABASE_URL": database_url, "KHANTON_PROCESSES": str(processes),
           "KHANTON_FORMS": str(forms)}
    run_in = tmp_path / "run"
    run_in.mkdir()
    return Office(processes, forms, env, run_in)


def _publish_as_analyst(office: Office, name: str) -> None:
    """nipa publishes her own version through the API, as the editor does."""
    office.khanton("user", "add", "nipa", "--role", "analyst", "--password-stdin")
    token = office.khanton("token", "nipa").strip()
    app = create_app({"TESTING": True, "DATABASE_URL": office.env["DATABASE_URL"],
                      "PROCESSES_DIR": office.processes, "FORMS_DIR": office.forms})
    xml = (office.processes / "budget-transfer.bpmn").read_text(encoding="utf-8")
    mine = re.sub(re.escape(PROCESS_LINE) + r'[^"]*"', f'{PROCESS_LINE}{name}"', xml, count=1)
    response = app.test_client().put("/api/v1/processes/budget-transfer/bpmn", data=mine.encode("utf-8"),
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    app.extensions["khanton"].db.dispose()


def test_init_again_never_replaces_what_an_analyst_published(office: Office) -> None:
    first = office.khanton("init")
    assert str(office.processes) in first and str(office.forms) in first
    assert office.line(first, "budget-transfer") == "budget-transfer: โหลดจากไฟล์เป็นรุ่น 1"
    assert office.line(first, "monitor-and-report") == "monitor-and-report: โหลดจากไฟล์เป็นรุ่น 1"
    again = office.khanton("init")
    assert office.line(again, "budget-transfer") == "budget-transfer: ไม่เปลี่ยนแปลง (รุ่น 1)"
    assert office.versions() == [(1, SYSTEM)]

    _publish_as_analyst(office, "โอนงบประมาณ (ฉบับของนิภา)")
    unchanged_file = office.line(office.khanton("init"), "budget-transfer")
    assert unchanged_file.startswith("budget-transfer: ไฟล์ไม่เปลี่ยนแปลง — ใช้รุ่น 2 ที่ nipa เผยแพร่เมื่อ ")
    assert office.versions() == [(1, SYSTEM), (2, "nipa")]

    office.rename("โอนงบประมาณ (ฉบับแก้ในไฟล์)")
    kept = office.line(office.khanton("init"), "budget-transfer")
    path = office.processes / "budget-transfer.bpmn"
    assert kept.startswith("budget-transfer: คงรุ่น 2 ที่ nipa เผยแพร่เมื่อ ")
    assert f"ไฟล์ {path} เปลี่ยนไปแต่ไม่ได้โหลด" in kept and kept.endswith(f"khanton deploy {path}")
    assert office.versions() == [(1, SYSTEM), (2, "nipa")]
    assert office.line(office.khanton("init"), "monitor-and-report") == "monitor-and-report: ไม่เปลี่ยนแปลง (รุ่น 1)"

    # Loading the file deliberately, as the line says; init then knows it as the file's last load.
    assert "budget-transfer: version 3 (new)" in office.khanton("deploy", str(path))
    assert office.line(office.khanton("init"), "budget-transfer") == "budget-transfer: ไม่เปลี่ยนแปลง (รุ่น 3)"
    # Over a version loaded from the file, a changed file (or only its form) is loaded.
    office.rename("โอนงบประมาณ (ฉบับแก้อีกครั้ง)")
    assert office.line(office.khanton("init"), "budget-transfer") == "budget-transfer: โหลดจากไฟล์เป็นรุ่น 4"
    start_form = office.forms / "budget-transfer" / "start.json"
    start_form.write_text(start_form.read_text(encoding="utf-8").replace('"maxLength": 200', '"maxLength": 250'),
                          encoding="utf-8")
    assert office.line(office.khanton("init"), "budget-transfer") == "budget-transfer: โหลดจากไฟล์เป็นรุ่น 5"
    assert office.versions() == [(1, SYSTEM), (2, "nipa"), (3, "cli"), (4, SYSTEM), (5, SYSTEM)]


def test_versions_loaded_before_sources_were_recorded_count_as_loaded_from_their_file(
        office: Office, tmp_path: Path) -> None:
    """An office upgraded from a Khanton whose init kept no source: its "system" versions are the files'."""
    khanton = Khanton(office.env["DATABASE_URL"], office.processes, office.forms)
    khanton.upgrade_schema()
    khanton.deploy_files(sorted(office.processes.glob("*.bpmn")), SYSTEM)
    with khanton.db.transaction() as session:  # what the old init stored: no source in the meta
        for version in session.scalars(select(ProcessVersion)):
            version.meta = {k: v for k, v in version.meta.items() if k != "source"}
    with khanton.db.transaction(read_only=True) as session:
        legacy = session.scalars(select(ProcessVersion).where(ProcessVersion.key == "budget-transfer")).one()
        assert "source" not in legacy.meta and source_of(legacy) is not None
    khanton.db.dispose()
    assert office.line(office.khanton("init"), "budget-transfer") == "budget-transfer: ไม่เปลี่ยนแปลง (รุ่น 1)"
    _publish_as_analyst(office, "โอนงบประมาณ (ฉบับของนิภา)")
    assert office.line(office.khanton("init"), "budget-transfer").startswith(
        "budget-transfer: ไฟล์ไม่เปลี่ยนแปลง — ใช้รุ่น 2 ที่ nipa")
    office.rename("โอนงบประมาณ (ฉบับแก้ในไฟล์)")
    assert office.line(office.khanton("init"), "budget-transfer").startswith("budget-transfer: คงรุ่น 2 ที่ nipa")
    assert office.versions() == [(1, SYSTEM), (2, "nipa")]


def test_a_broken_file_loads_nothing_and_says_where(office: Office) -> None:
    office.khanton("init")
    path = office.processes / "budget-transfer.bpmn"
    path.write_text(path.read_text(encoding="utf-8").replace('decision == "approved"', "open('x')", 1),
                    encoding="utf-8")
    office.rename("โอนงบประมาณ (ฉบับเสีย)")
    output = office.khanton("init", code=1)
    assert "budget-transfer.bpmn: line " in output and "open" in output
    assert "ไม่ได้โหลดไฟล์ใดเลย" in output
    assert office.versions() == [(1, SYSTEM)]


def test_the_app_reads_the_offices_folders_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("KHANTON_PROCESSES", str(tmp_path / "procedures"))
    monkeypatch.setenv("KHANTON_FORMS", str(tmp_path / "forms"))
    khanton = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"}).extensions["khanton"]
    assert (khanton.processes_dir, khanton.forms_dir) == (tmp_path / "procedures", tmp_path / "forms")
    explicit = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
                           "PROCESSES_DIR": ROOT / "processes"}).extensions["khanton"]
    assert explicit.processes_dir == ROOT / "processes"


def test_a_version_published_while_init_loads_stands(database_url: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """init decides, then parses, then publishes: an analyst publishing in between is not overwritten."""
    processes = tmp_path / "procedures"
    processes.mkdir()
    shutil.copy(ROOT / "processes" / "admin-office.bpmn", processes)
    khanton = Khanton(database_url, processes, ROOT / "forms")
    khanton.upgrade_schema()
    khanton.load_directory()
    xml = (processes / "admin-office.bpmn").read_text(encoding="utf-8")
    (processes / "admin-office.bpmn").write_text(xml.replace('name="', 'name="แก้ในไฟล์ ', 1), encoding="utf-8")
    khanton.add_user("nipa", ["analyst"], [])
    real_plan = publishing.plan
    plans = []

    def plan_then_nipa_publishes(session: Any, files: Any) -> Any:
        planned = real_plan(session, files)
        if not plans:  # after init's first look, before it writes
            khanton.publish_xml("admin-office", xml.replace('name="', 'name="ของนิภา ', 1).encode(),
                                khanton.actor("nipa"))
        plans.append(planned)
        return planned

    monkeypatch.setattr(publishing, "plan", plan_then_nipa_publishes)
    with pytest.raises(Conflict, match="khanton init อีกครั้ง"):
        khanton.load_directory()
    assert plans[0][0].action is Action.LOAD and plans[1][0].action is Action.KEPT
    monkeypatch.setattr(publishing, "plan", real_plan)
    [outcome] = khanton.load_directory()
    assert (outcome.action, outcome.version, outcome.published_by) == (Action.KEPT, 2, "nipa")
    khanton.db.dispose()
