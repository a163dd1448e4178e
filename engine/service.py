"""The engine's front door for the CLI, the web app and tests: each call is one transaction."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from . import (
    accounts,
    assignments,
    attachments,
    casefile,
    definitions,
    instances,
    migrate,
    queries,
    schools,
    signin,
    web_sessions,
    worklist,
)
from .accounts import Actor
from .db import Database
from .definitions import Definition
from .errors import Conflict, FieldError, Forbidden, InvalidDefinition
from .loading import Action, Outcome, plan
from .models import Event, HumanTask, User
from .sources import SYSTEM
from .xmlsafe import UnsafeXml, decode

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Tries of one completion when other completions keep writing the same instance (parallel rounds).
COMPLETE_ATTEMPTS = 5
PUBLISH_ATTEMPTS = 3


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


class Khanton:
    def __init__(self, database_url: str | None = None, processes_dir: Path | None = None,
                 forms_dir: Path | None = None) -> None:
        self.db = Database(database_url)
        self.processes_dir = _folder(processes_dir, "KHANTON_PROCESSES", "processes")
        self.forms_dir = _folder(forms_dir, "KHANTON_FORMS", "forms")

    # --- set-up -------------------------------------------------------------------------------
    def upgrade_schema(self) -> None:
        migrate.upgrade(self.db)

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

    def publish_xml(self, key: str, xml: bytes, actor: Actor) -> Published:
        if "analyst" not in actor.roles:
            raise Forbidden("เฉพาะนักวิเคราะห์กระบวนงาน (analyst) เท่านั้นที่เผยแพร่รุ่นใหม่ได้")
        return self._publish([(f"{key}.bpmn", xml)], {f"{key}.bpmn": key}, actor.username)[0]

    def _publish(self, sources: list[tuple[str, str | bytes]], expected: dict[str, str], actor: str,
                 from_files: bool = False, before: Callable[[Session], None] | None = None) -> list[Published]:
        # Check and parse before the write transaction: SpiffWorkflow's parser may take seconds, and
        # SQLite's BEGIN IMMEDIATE would hold the write lock for all of them. Publishing then checks
        # that no procedure was published meanwhile (a called one would be stale in the parsed spec).
        for _ in range(PUBLISH_ATTEMPTS):
            with self.db.transaction(read_only=True) as session:
                seen = definitions.published_hashes(session)
                checked = definitions.check_batch(sources, self.forms_dir, session, expected)
            problems = [p for d in checked for p in d.problems]
            if problems:
                keys = ", ".join(sorted({d.key for d in checked if d.problems and d.key}))
                raise InvalidDefinition(problems, keys or None)
            with self.db.transaction() as session:
                if definitions.published_hashes(session) != seen:
                    continue
                if before is not None:
                    before(session)
                files = {key: name for name, key in expected.items()} if from_files else {}
                published = []
                for definition in definitions.dependency_order(checked):
                    version, created = definitions.publish(session, definition, actor, files.get(definition.key))
                    published.append(Published(version.key, version.version, created))
                return published
        raise Conflict("มีการเผยแพร่กระบวนงานอื่นพร้อมกันหลายครั้ง กรุณาลองอีกครั้ง")

    # --- people -------------------------------------------------------------------------------
    def add_user(self, username: str, roles: list[str], lanes: list[str], password: str | None = None,
                 display_name: str = "", school: str | None = None) -> None:
        """A user; one of lane `school` belongs to one school that exists (add_school first)."""
        with self.db.transaction() as session:
            accounts.add_user(session, username, roles, lanes, password, display_name, school)

    def set_school(self, username: str, school: str) -> None:
        with self.db.transaction() as session:
            accounts.set_school(session, username, school)

    def add_school(self, code: str, name: str, district: str = "") -> None:
        """A school of the area, by its official code; a duplicate or malformed code is refused."""
        with self.db.transaction() as session:
            schools.add_school(session, code, name, district)

    def schools(self) -> list[dict[str, str]]:
        with self.db.transaction(read_only=True) as session:
            return [{"code": s.code, "name": s.name, "district": s.district} for s in schools.listing(session)]

    def issue_token(self, username: str) -> str:
        with self.db.transaction() as session:
            return accounts.issue_token(session, username)

    def actor_for_token(self, token: str) -> Actor | None:
        with self.db.transaction(read_only=True) as session:
            user = accounts.user_for_token(session, token)
            return Actor.of(user) if user else None

    def actor(self, username: str) -> Actor:
        with self.db.transaction(read_only=True) as session:
            return Actor.of(accounts.find_user(session, username))

    # --- work -----------------------------------------------------------------------------------
    def start(self, key: str, data: dict[str, Any], actor: Actor,
              unconverted: Sequence[FieldError] = ()) -> dict[str, Any]:
        with self.db.transaction() as session:
            instance = instances.start(session, key, data, actor, unconverted)
            return queries.instance_view(session, instance, actor)

    def complete(self, task_id: str, data: Any, actor: Actor,
                 unconverted: Sequence[FieldError] = ()) -> dict[str, Any]:
        """Complete a task; a person acting for someone away works that person's lanes and the tasks
        that person holds, and a task someone else has claimed is theirs. `unconverted`: fields a page
        could not read, refused (422, nothing written) together with everything else the data gets wrong.

        Completions of one instance take turns (instances.complete locks the instance row), so two
        schools answering their own rounds at once both succeed. Should the revision check still fail
        (a writer that took no lock), the completion runs again on the fresh state, a few times at
        most: the new run sees whether this task is still ready (then it succeeds) or done (then 409)."""
        for attempt in range(1, COMPLETE_ATTEMPTS + 1):
            try:
                with self.db.transaction() as session:
                    worker = assignments.worker(session, actor)
                    instance = instances.complete(session, task_id, data, worker.actor, worker.stands_for,
                                                  unconverted)
                    task = session.get(HumanTask, task_id)
                    acting_for = worker.acting_for(task) if task is not None else None
                    if acting_for:
                        self._mark_acting(session, task_id, acting_for)
                    return queries.instance_view(session, instance, worker.actor)
            except instances.StaleInstance:
                if attempt == COMPLETE_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0, 0.02 * attempt))  # noqa: S311 - jitter, not a secret
        raise AssertionError("unreachable")

    def ready_tasks(self, actor: Actor, **filters: Any) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return queries.ready_tasks(session, assignments.effective_actor(session, actor), **filters)

    def task(self, task_id: str, actor: Actor) -> dict[str, Any]:
        with self.db.transaction(read_only=True) as session:
            return queries.task_view(session, assignments.effective_actor(session, actor), task_id)

    def instance(self, instance_id: str, actor: Actor) -> dict[str, Any]:
        with self.db.transaction(read_only=True) as session:
            return queries.instance_view(session, queries.visible_instance(session, actor, instance_id), actor)

    def instances(self, actor: Actor, **filters: Any) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return queries.instances(session, actor, **filters)

    def timeline(self, instance_id: str, actor: Actor) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return queries.timeline(session, queries.visible_instance(session, actor, instance_id), actor=actor)

    def processes(self) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return queries.processes(session)

    def process_xml(self, key: str, version: int | None = None) -> str:
        with self.db.transaction(read_only=True) as session:
            return queries.process_version(session, key, version).bpmn_xml

    # --- officers' web app ----------------------------------------------------------------------
    @staticmethod
    def _mark_acting(session: Session, task_id: str, acting_for: str) -> None:
        """The completion event of a task done by someone acting for `acting_for` says so."""
        event = session.scalars(select(Event).where(Event.task_id == task_id, Event.kind == "completed")
                                .order_by(Event.id.desc()).limit(1)).first()
        if event is not None:
            event.data = {**(event.data or {}), "acting_for": acting_for}

    def sign_in(self, username: str, password: str) -> Actor | None:
        """The actor for a right name and password, None if wrong; signin.LockedOut after repeated failures."""
        with self.db.transaction() as session:
            return signin.sign_in(session, username, password)

    def active_actor(self, username: str) -> Actor | None:
        """The actor for a session's user, or None if the user is gone or deactivated."""
        with self.db.transaction(read_only=True) as session:
            user = session.scalar(select(User).where(User.username == username))
            return Actor.of(user) if user is not None and user.active else None

    def begin_web_session(self, username: str, lifetime: timedelta) -> str:
        """A server-side session for a browser that just signed in: the key its cookie carries."""
        with self.db.transaction() as session:
            return web_sessions.begin(session, username, lifetime)

    def web_session_actor(self, key: str, lifetime: timedelta) -> Actor | None:
        """The person of a live browser session, or None once it ended, expired or its person was
        deactivated."""
        with self.db.transaction(read_only=True) as session:
            return web_sessions.actor(session, key, lifetime)

    def end_web_session(self, key: str) -> None:
        with self.db.transaction() as session:
            web_sessions.end(session, key)

    def set_password(self, username: str, password: str) -> None:
        """A new password ends every browser session of that person."""
        with self.db.transaction() as session:
            accounts.find_user(session, username).password_hash = generate_password_hash(password)
            web_sessions.end_all(session, username)

    def inbox(self, actor: Actor, lane: str | None = None, process: str | None = None, limit: int = 20,
              offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        with self.db.transaction(read_only=True) as session:
            return worklist.inbox(session, actor, lane, process, limit, offset)

    def count_waiting(self, actor: Actor) -> int:
        with self.db.transaction(read_only=True) as session:
            return worklist.count_waiting(session, actor)

    def working_actor(self, actor: Actor) -> Actor:
        """The actor with the lanes of those they act for today."""
        with self.db.transaction(read_only=True) as session:
            return assignments.effective_actor(session, actor)

    def worker(self, actor: Actor) -> assignments.Worker:
        """The actor as they work today: the lanes and the claims of those they act for."""
        with self.db.transaction(read_only=True) as session:
            return assignments.worker(session, actor)

    def acting_lanes(self, actor: Actor) -> dict[str, str]:
        """Lanes the actor works today only because they act for someone: lane -> that person."""
        with self.db.transaction(read_only=True) as session:
            return assignments.acting_lanes(session, actor)

    def claim(self, task_id: str, actor: Actor) -> dict[str, Any]:
        """Take the task; the task as `task()` shows it, with its holder."""
        with self.db.transaction() as session:
            assignments.claim(session, task_id, actor)
            return queries.task_view(session, assignments.effective_actor(session, actor), task_id)

    def release(self, task_id: str, actor: Actor) -> dict[str, Any]:
        with self.db.transaction() as session:
            assignments.release(session, task_id, actor)
            return queries.task_view(session, assignments.effective_actor(session, actor), task_id)

    def hand_over(self, task_id: str, actor: Actor, to: object, note: object = "") -> dict[str, Any]:
        """Give the task to a colleague; `to` and `note` as a client sent them (checked by the engine)."""
        with self.db.transaction() as session:
            assignments.hand_over(session, task_id, actor, to, note)
            return queries.task_view(session, assignments.effective_actor(session, actor), task_id)

    def colleagues(self, lane: str, exclude: str | None = None, school: str | None = None) -> list[tuple[str, str]]:
        with self.db.transaction(read_only=True) as session:
            return assignments.colleagues(session, lane, exclude, school)

    def delegate(self, actor: Actor, to: str, kind: str, starts_on: date, ends_on: date, note: str = "") -> None:
        with self.db.transaction() as session:
            assignments.delegate(session, actor, to, kind, starts_on, ends_on, note)

    def revoke_delegation(self, actor: Actor, delegation_id: int) -> None:
        with self.db.transaction() as session:
            assignments.revoke(session, actor, delegation_id)

    def delegations(self, actor: Actor) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return assignments.delegations(session, actor.username)

    def display_names(self, *usernames: str | None) -> dict[str, str]:
        """username -> display name, for these users only."""
        with self.db.transaction(read_only=True) as session:
            return accounts.names(session, usernames)

    def officers(self) -> list[tuple[str, str]]:
        """(username, display name) of every active officer."""
        with self.db.transaction(read_only=True) as session:
            users = session.scalars(select(User).where(User.active.is_(True))
                                    .order_by(User.username)).all()
            return [(u.username, u.display_name) for u in users if "officer" in u.roles]

    def attach(self, task_id: str, actor: Actor, filename: str, content: bytes | None) -> dict[str, Any]:
        """Attach a document (None: no file was sent) to a task the actor may work and nobody else holds."""
        with self.db.transaction() as session:
            worker = assignments.worker(session, actor)
            return attachments.summary(attachments.add(session, worker, task_id, filename, content))

    def task_attachments(self, task_id: str, actor: Actor) -> list[dict[str, Any]]:
        """A task's documents, for those who may see the task."""
        with self.db.transaction(read_only=True) as session:
            queries.task_view(session, assignments.effective_actor(session, actor), task_id)
            return attachments.for_task(session, task_id)

    def attachment(self, attachment_id: str, actor: Actor) -> tuple[dict[str, Any], bytes]:
        with self.db.transaction(read_only=True) as session:
            return attachments.fetch(session, assignments.effective_actor(session, actor), attachment_id)

    def startable(self, actor: Actor) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return casefile.startable(session, actor)

    def start_form(self, key: str) -> dict[str, Any]:
        with self.db.transaction(read_only=True) as session:
            return casefile.start_form(session, key)

    def start_data(self, instance_id: str, actor: Actor) -> dict[str, Any]:
        with self.db.transaction(read_only=True) as session:
            return casefile.start_data(session, actor, instance_id)

    def previous_year(self, key: str, actor: Actor, fiscal_year: int) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return casefile.previous_year(session, actor, key, fiscal_year)

    def instance_file(self, instance_id: str, actor: Actor, latest_events: int | None = None) -> dict[str, Any]:
        with self.db.transaction(read_only=True) as session:
            return casefile.instance_file(session, actor, instance_id, latest_events)
