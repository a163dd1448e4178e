"""The engine's front door for the CLI, the web app and tests: each call is one transaction."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from . import (
    accounts,
    assignments,
    attachments,
    casefile,
    instances,
    queries,
    school_scope,
    schools,
    signin,
    web_sessions,
    worklist,
)
from .accounts import Actor
from .errors import FieldError, NotFound
from .models import User
from .people import audit
from .publishing import Publisher
from .read import diagram as diagram_read
from .read import instance_list, procedures
from .read import timeline as timeline_read
from .read.rows import Count, InboxPage, InstanceListPage
from .read.timeline import Timeline
from .repair import actions as repair
from .rounds import answer_by, drafts
from .rounds.answer_by import AnswerRounds
from .rounds.view import rounds_view
from .runtime import answers

# Tries of one completion when other completions keep writing the same instance (parallel rounds).
COMPLETE_ATTEMPTS = 5
OPTIMISTIC_ATTEMPTS = 2  # of those, run without waiting for the instance's row
REPAIRS: dict[str, Any] = {"suspend": repair.suspend, "resume": repair.resume, "terminate": repair.terminate,
                           "send_back": repair.send_back, "correct": repair.correct, "retry": repair.retry}


@dataclass(frozen=True)
class RepairChoices:
    revision: int
    steps: list[tuple[str, str]]  # (step id, name) it can be sent back to
    fields: dict[str, dict[str, Any]]  # field -> schema, that can be corrected
    data: dict[str, Any]


class Khanton(Publisher):
    """The engine's front door: publishing (Publisher), people, and work."""

    # --- people -------------------------------------------------------------------------------
    def add_user(self, username: str, roles: list[str], lanes: list[str], password: str | None = None,
                 display_name: str = "", school: str | None = None, who: audit.Who | None = None) -> None:
        """A user; one of lane `school` belongs to one school that exists (add_school first). `who`: the
        operator the audit trail names (the command line); None for set-up and tests."""
        with self.db.transaction() as session:
            accounts.add_user(session, username, roles, lanes, password, display_name, school)
            if who is not None:
                audit.record(session, who, "user_added", username, display_name=display_name,
                             roles=sorted(roles), lanes=sorted(lanes), school=school or None)

    def set_school(self, username: str, school: str, who: audit.Who | None = None) -> None:
        with self.db.transaction() as session:
            accounts.set_school(session, username, school)
            if who is not None:
                audit.record(session, who, "user_changed", username, school=school.strip())

    def add_school(self, code: str, name: str, district: str = "", who: audit.Who | None = None) -> None:
        """A school of the area, by its official code; a duplicate or malformed code is refused."""
        with self.db.transaction() as session:
            added = schools.add_school(session, code, name, district)
            if who is not None:
                audit.record(session, who, "school_added", added.code, name=added.name, district=added.district)

    def schools(self) -> list[dict[str, str]]:
        with self.db.transaction(read_only=True) as session:
            return [{"code": s.code, "name": s.name, "district": s.district} for s in schools.listing(session)]

    def issue_token(self, username: str, days: int | None = accounts.TOKEN_DAYS) -> str:
        """A new API token, valid `days` days (None: until revoked)."""
        with self.db.transaction() as session:
            return accounts.issue_token(session, username, days)

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
        # The first automatic steps run in a read transaction: no engine run holds SQLite's write lock.
        with self.db.transaction(read_only=True) as session:
            prepared = instances.prepare_start(session, key, data, actor, unconverted)
        with self.db.transaction() as session:
            done = instances.apply_start(session, prepared, data, actor)
            return answers.instance_view(session, done.instance, done.version, done.ready, actor)

    def complete(self, task_id: str, data: Any, actor: Actor,
                 unconverted: Sequence[FieldError] = ()) -> dict[str, Any]:
        """Complete a task; a person acting for someone away works that person's lanes and the tasks
        that person holds, and a task someone else has claimed is theirs. `unconverted`: fields a page
        could not read, refused (422, nothing written) together with everything else the data gets wrong.

        The task and the automatic steps after it run on the state read in a read transaction, so no
        engine run holds SQLite's write lock; the short write that follows checks the instance's
        revision. When another completion wrote the instance meanwhile (another school's round), the
        work is done again on the fresh state; after OPTIMISTIC_ATTEMPTS such tries, completions of the
        instance take turns on its row (instances.complete locks it), so each succeeds or meets a real
        conflict (the same task done: 409)."""
        with self.db.unit():  # the caller's unit of work (a web request's), else one for this call
            for attempt in range(1, COMPLETE_ATTEMPTS + 1):
                try:
                    return self._complete_once(task_id, data, actor, unconverted, attempt)
                except instances.StaleInstance:
                    if attempt == COMPLETE_ATTEMPTS:
                        raise
                    time.sleep(random.uniform(0, 0.01 * attempt))  # noqa: S311 - jitter, not a secret
        raise AssertionError("unreachable")

    def _complete_once(self, task_id: str, data: Any, actor: Actor, unconverted: Sequence[FieldError],
                       attempt: int) -> dict[str, Any]:
        """One try. Within one unit of work the read and the write share a session (nothing is read
        twice) and, on PostgreSQL, one transaction; on SQLite the write block takes the write lock
        only after the engine ran (db.UnitOfWork). The answer is built from what the write holds."""
        if attempt <= OPTIMISTIC_ATTEMPTS:
            with self.db.transaction(read_only=True) as session:
                worker = assignments.worker(session, actor)
                prepared = instances.prepare_completion(session, task_id, data, worker.actor,
                                                        worker.stands_for, unconverted)
            with self.db.transaction() as session:
                done = instances.apply_completion(session, prepared, data, worker.actor, worker.stands_for, worker)
                return answers.instance_view(session, done.instance, done.version, done.ready, worker.actor)
        with self.db.transaction() as session:
            worker = assignments.worker(session, actor)
            done = instances.complete(session, task_id, data, worker.actor, worker.stands_for, unconverted, worker)
            return answers.instance_view(session, done.instance, done.version, done.ready, worker.actor)

    def ready_tasks(self, actor: Actor, **filters: Any) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return queries.ready_tasks(session, assignments.effective_actor(session, actor), **filters)

    def task(self, task_id: str, actor: Actor) -> dict[str, Any]:
        """The task with its form and data; `returned` (why this round exists, or None), the caller's
        `draft` (or None) and, for a decision, its `earlier_rounds`."""
        with self.db.transaction(read_only=True) as session:
            working = assignments.effective_actor(session, actor)
            view = queries.task_view(session, working, task_id)
            return {**view, **rounds_view(session, task_id, working, view["form"])}

    def save_draft(self, task_id: str, actor: Actor, data: Any) -> dict[str, Any]:
        """Keep `data` as the caller's draft of the task (not validated: storable and bounded only)."""
        with self.db.transaction() as session:
            return drafts.save(session, assignments.effective_actor(session, actor), task_id, data).as_json()

    def instance(self, instance_id: str, actor: Actor) -> dict[str, Any]:
        with self.db.transaction(read_only=True) as session:
            return queries.instance_view(session, queries.visible_instance(session, actor, instance_id), actor)

    def instances(self, actor: Actor, **filters: Any) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return queries.instances(session, actor, **filters)

    def instance_summaries(self, actor: Actor, process: str | None = None, status: str | None = None,
                           fiscal_year: int | None = None, limit: int = 100, offset: int = 0) -> InstanceListPage:
        """The instance list page as typed rows; `instances` gives the same rows as the API's JSON."""
        with self.db.transaction(read_only=True) as session:
            return InstanceListPage(instance_list.rows(session, actor, process, status, fiscal_year, limit, offset),
                                    procedures.names(session))

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
    def sign_in(self, username: str, password: str, address: str | None = None) -> Actor | None:
        """The actor for a right name and password, None if wrong; signin.LockedOut after repeated failures
        for this name from this client address (or from this address)."""
        with self.db.transaction() as session:
            return signin.sign_in(session, username, password, address)

    def active_actor(self, username: str) -> Actor | None:
        """The actor for a session's user, or None if the user is gone or deactivated."""
        with self.db.transaction(read_only=True) as session:
            user = session.scalar(select(User).where(User.username == username))
            return Actor.of(user) if user is not None and user.active else None

    def begin_web_session(self, username: str, idle: timedelta) -> str:
        """A server-side session for a browser that just signed in: the key its cookie carries."""
        with self.db.transaction() as session:
            return web_sessions.begin(session, username, idle)

    def web_session_actor(self, key: str, idle: timedelta) -> Actor | None:
        """The person of a live browser session, or None once it ended, was idle longer than `idle` or
        its person was deactivated. Using it starts its idle time again (noted at most once a minute,
        in a write of its own, so most requests only read)."""
        with self.db.transaction(read_only=True) as session:
            found = web_sessions.live(session, key, idle)
        if found is not None and found.note_use:
            with self.db.transaction() as session:
                web_sessions.note_use(session, key)
        return found.actor if found else None

    def end_web_session(self, key: str) -> None:
        with self.db.transaction() as session:
            web_sessions.end(session, key)

    def set_password(self, username: str, password: str) -> None:
        """A new password ends every browser session of that person."""
        with self.db.transaction() as session:
            accounts.find_user(session, username).password_hash = generate_password_hash(password)
            web_sessions.end_all(session, username)

    def inbox(self, actor: Actor, lane: str | None = None, process: str | None = None, limit: int = 20,
              offset: int = 0) -> InboxPage:
        with self.db.transaction(read_only=True) as session:
            return worklist.inbox(session, actor, lane, process, limit, offset)

    def count_waiting(self, actor: Actor) -> Count:
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

    def remove_attachment(self, attachment_id: str, actor: Actor) -> dict[str, Any]:
        """Remove a document one added to a task that is still open; recorded on the timeline."""
        with self.db.transaction() as session:
            worker = assignments.worker(session, actor)
            return attachments.summary(attachments.remove(session, worker, attachment_id))

    def task_attachments(self, task_id: str, actor: Actor) -> list[dict[str, Any]]:
        """A task's documents, for those who may see the task."""
        with self.db.transaction(read_only=True) as session:
            queries.visible_task(session, assignments.effective_actor(session, actor), task_id)
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

    # --- the instance page and repairs (issue 9: engine/read/timeline.py, diagram.py, engine/repair/) ---
    def step_timeline(self, instance_id: str, actor: Actor, now: datetime | None = None) -> Timeline:
        """Every round of every step, with waits in office hours and the returns as loops."""
        with self.db.transaction(read_only=True) as session:
            working = assignments.effective_actor(session, actor)
            instance = queries.visible_instance(session, working, instance_id)
            hidden = school_scope.hidden_rounds(session, working, instance.id)
            return timeline_read.build(session, instance, now, hidden)

    def diagram_marks(self, instance_id: str, actor: Actor) -> list[dict[str, Any]]:
        """The procedure's diagram and its called ones, with the elements done, current and overdue."""
        with self.db.transaction(read_only=True) as session:
            instance = queries.visible_instance(session, assignments.effective_actor(session, actor), instance_id)
            return [m.as_json() for m in diagram_read.marks(session, instance)]

    def repair_choices(self, instance_id: str, actor: Actor) -> RepairChoices:
        """What an admin's repair forms offer: the steps to send back to, the fields to correct."""
        with self.db.transaction(read_only=True) as session:
            instance = queries.visible_instance(session, actor, instance_id)
            return RepairChoices(instance.revision, repair.steps_to_send_back(session, instance),
                                 repair.correctable_fields(session, instance), dict(instance.data or {}))

    def repair(self, action: str, instance_id: str, actor: Actor, **given: Any) -> repair.Outcome:
        """One repair (suspend, resume, terminate, send_back, correct, retry) in one transaction."""
        do = REPAIRS.get(action)
        if do is None:
            raise NotFound(f"ไม่มีการแก้ไขแบบ {action}")
        with self.db.transaction() as session:
            done: repair.Outcome = do(session, actor, instance_id, **given)
            return done

    # --- answer-by dates of per-school rounds (engine/rounds/answer_by.py) ----------------------
    def answer_rounds(self, instance_id: str, actor: Actor) -> list[AnswerRounds]:
        """Each per-school step of a visible instance with an answer-by date: who answered, who not yet."""
        with self.db.transaction(read_only=True) as session:
            queries.visible_instance(session, actor, instance_id)
            return [] if actor.school_only else answer_by.summaries(session, instance_id)

    def close_late_rounds(self, instance_id: str, task_spec: str, actor: Actor, revision: int | None) -> int:
        """After the answer-by date: close the rounds still open and go on with the answers received."""
        with self.db.transaction() as session:
            return answer_by.close_late(session, instance_id, task_spec, actor, revision)
