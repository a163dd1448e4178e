"""Publishing procedures: checking files, publishing versions, and what `khanton init` loads.

Definitions are checked and parsed before any write transaction opens (SpiffWorkflow's parser may
take seconds, and SQLite's BEGIN IMMEDIATE would hold the write lock for all of them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import definitions, migrate
from .accounts import Actor
from .db import Database
from .definitions import Definition
from .errors import Conflict, Forbidden, InvalidDefinition
from .loading import Action, Outcome, plan
from .people import audit
from .people import lanes as lane_table
from .read import statistics
from .sources import SYSTEM
from .xmlsafe import UnsafeXml, decode

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PUBLISH_ATTEMPTS = 3
NOTE_LENGTH = 1000  # a version's note (ProcessVersion.note)


@dataclass
class Published:
    key: str
    version: int
    created: bool


def _loaded(planned: Outcome, published: Published | None) -> Outcome:
    """The planned outcome, with the version a load made (a load that changed nothing is unchanged)."""
    if published is None:
        return planned
    action = Action.LOAD if published.created else Action.UNCHANGED
    return Outcome(planned.key, planned.path, action, published.version, SYSTEM)


def _folder(explicit: Path | str | None, variable: str, default: str) -> Path:
    """The folder given, else the one the environment names (an office keeps its procedures outside
    the install), else the project's own."""
    return Path(explicit or os.environ.get(variable) or PROJECT_ROOT / default)


class Publisher:
    """Procedures in and out of the database: checking, publishing, loading a folder (khanton init)."""

    def __init__(self, database_url: str | None = None, processes_dir: Path | None = None,
                 forms_dir: Path | None = None) -> None:
        self.db = Database(database_url)
        statistics.keep_current(self.db)  # SQLite's planner statistics (engine/read/statistics.py)
        self.processes_dir = _folder(processes_dir, "KHANTON_PROCESSES", "processes")
        self.forms_dir = _folder(forms_dir, "KHANTON_FORMS", "forms")

    # --- set-up -------------------------------------------------------------------------------
    def upgrade_schema(self) -> None:
        migrate.upgrade(self.db)
        with self.db.transaction() as session:  # lanes of engine.roles not yet in the table (new ones)
            lane_table.seed(session)

    def check_files(self, paths: list[Path]) -> list[Definition]:
        """Check files (they may call each other and published processes) without publishing."""
        sources: list[tuple[str, str | bytes]] = [(p.name, p.read_bytes()) for p in paths]
        expected = {p.name: p.stem for p in paths}
        # Called processes may be published ones, or files beside it in processes/ not yet published.
        library = {}
        for path in self.processes_dir.glob("*.bpmn"):
            try:
                library[path.stem] = decode(path.read_bytes())
            except UnsafeXml:  # unreadable: a process calling it is told it does not exist
                continue
        if not self.has_schema():  # validating needs no database
            return definitions.check_batch(sources, self.forms_dir, None, expected, library)
        with self.db.transaction(read_only=True) as session:
            return definitions.check_batch(sources, self.forms_dir, session, expected, library)

    def has_schema(self) -> bool:
        """Whether the database exists and has been initialised (never creates a SQLite file)."""
        if self.db.is_sqlite:
            path = self.db.url.removeprefix("sqlite:///")
            if path and path != ":memory:" and not Path(path).exists():
                return False
        return sa_inspect(self.db.engine).has_table("process_versions")

    def deploy_files(self, paths: list[Path], actor: str) -> list[Published]:
        """Publish files as new versions, deliberately (over a person's newer version too); all or
        nothing. Each version records its file, so `init` knows what was last loaded from it."""
        sources: list[tuple[str, str | bytes]] = [(p.name, p.read_bytes()) for p in paths]
        return self._publish(sources, {p.name: p.stem for p in paths}, actor, from_files=True)

    def load_directory(self) -> list[Outcome]:
        """`khanton init`: load each file of the processes folder that changed since it was last
        loaded, never over a newer version a person published (engine/loading.py)."""
        read = {path: path.read_bytes() for path in sorted(self.processes_dir.glob("*.bpmn"))}
        files = [(path, definitions.inspect(xml, self.forms_dir, path.stem, path.name)) for path, xml in read.items()]
        with self.db.transaction(read_only=True) as session:
            planned = plan(session, files)
        wanted = [file for file, outcome in zip(files, planned, strict=True) if outcome.action is Action.LOAD]
        if not wanted:
            return planned

        def still_wanted(session: Session) -> None:
            # A person may have published between the plan and now: theirs stands; init is run again.
            for outcome in plan(session, wanted):
                if outcome.action is not Action.LOAD:
                    raise Conflict(f"{outcome.key}: มีผู้เผยแพร่รุ่น {outcome.version} ระหว่างการโหลด "
                                   "จึงไม่ได้โหลดไฟล์ใดเลย กรุณาสั่ง khanton init อีกครั้ง")

        published = self._publish([(path.name, read[path]) for path, _ in wanted],
                                  {path.name: path.stem for path, _ in wanted}, SYSTEM, from_files=True,
                                  before=still_wanted)
        made = {item.key: item for item in published}
        return [_loaded(outcome, made.get(outcome.key)) for outcome in planned]

    def publish_xml(self, key: str, xml: bytes | str, actor: Actor, forms: Mapping[str, Any] | None = None,
                    note: str = "", address: str | None = None) -> Published:
        """A person publishes: `forms` (path -> schema, from the editor) stand in for files of the
        forms folder; the new version is written to the audit trail with the note."""
        if "analyst" not in actor.roles:
            raise Forbidden("เฉพาะนักวิเคราะห์กระบวนงาน (analyst) เท่านั้นที่เผยแพร่รุ่นใหม่ได้")
        return self._publish([(f"{key}.bpmn", xml)], {f"{key}.bpmn": key}, actor.username, forms=forms,
                             audit_as=audit.Who(actor.username, address), note=note)[0]

    def _publish(self, sources: list[tuple[str, str | bytes]], expected: dict[str, str], actor: str,
                 from_files: bool = False, before: Callable[[Session], None] | None = None,
                 forms: Mapping[str, Any] | None = None, audit_as: audit.Who | None = None,
                 note: str = "") -> list[Published]:
        # Check and parse before the write transaction: SpiffWorkflow's parser may take seconds, and
        # SQLite's BEGIN IMMEDIATE would hold the write lock for all of them. Publishing then checks
        # that no procedure was published meanwhile (a called one would be stale in the parsed spec).
        for _ in range(PUBLISH_ATTEMPTS):
            with self.db.transaction(read_only=True) as session:
                seen = definitions.published_hashes(session)
                checked = definitions.check_batch(sources, self.forms_dir, session, expected, form_overrides=forms)
            problems = [p for d in checked for p in d.problems]
            if problems:
                keys = ", ".join(sorted({d.key for d in checked if d.problems and d.key}))
                raise InvalidDefinition(problems, keys or None)
            try:
                with self.db.transaction() as session:
                    if definitions.published_hashes(session) != seen:
                        continue
                    if before is not None:
                        before(session)
                    files = {key: name for name, key in expected.items()} if from_files else {}
                    published = []
                    for definition in definitions.dependency_order(checked):
                        version, created = definitions.publish(session, definition, actor,
                                                               files.get(definition.key))
                        if created and note:
                            version.note = note.strip()[:NOTE_LENGTH]
                        published.append(Published(version.key, version.version, created))
                        if created:  # in the same transaction as the version; files: as `init`'s actor
                            detail = {"file": files[version.key]} if version.key in files else {}
                            audit.record(session, audit_as or audit.Who(actor), "publish", version.key,
                                         version=version.version, note=note[:500], **detail)
                    return published
            except IntegrityError:
                # PostgreSQL (read committed) lets two publishers read the same latest version; the
                # unique (key, version) refuses the second insert. Check again and take the next number.
                continue
        raise Conflict("มีการเผยแพร่กระบวนงานอื่นพร้อมกันหลายครั้ง กรุณาลองอีกครั้ง")
