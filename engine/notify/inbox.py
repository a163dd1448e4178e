"""In-app notices, made from ready tasks by the polling job (engine.time.firing.Poller): new,
returned for revision (instead of new, for a round that follows a return), due soon, overdue.

A notice is one row per (person, task, kind), unique in the database: the job may run in several
workers at once, and a second insert of the same notice fails instead of doubling it. Who is told:
the person holding the task, else everyone who works its lane (for a school's round, that school's
users only) — the same people who see it in their inbox. Each person's choices
(engine.notify.preferences) say whether a notice is shown in-app and whether it goes by e-mail too
(engine.notify.outbox queues the letter with the notice, in the same transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..accounts import SCHOOL_LANE
from ..models import HumanTask, MailOut, Notification, TaskReturn, User
from ..roles import effective_lanes
from . import outbox, preferences
from .mail import Settings

NEW, RETURNED, DUE_SOON, OVERDUE = preferences.NEW, preferences.RETURNED, preferences.DUE_SOON, preferences.OVERDUE
NEW_WINDOW = timedelta(days=2)  # a task older than this when first seen is not announced as new
DUE_SOON_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class Notice:
    id: int
    kind: str
    task_id: str
    instance_id: str
    title: str
    due_at: datetime | None
    created_at: datetime
    read: bool


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _kinds(task: HumanTask, now: datetime, returned: set[str]) -> list[str]:
    fresh = _utc(task.created_at) >= now - NEW_WINDOW
    kinds = [RETURNED if task.id in returned else NEW] if fresh else []
    if task.due_at is not None:
        due = _utc(task.due_at)
        kinds += [OVERDUE] if due <= now else [DUE_SOON] if due <= now + DUE_SOON_WINDOW else []
    return kinds


def recipients(task: HumanTask, users: list[User]) -> list[str]:
    if task.assignee:
        return [task.assignee]
    return [u.username for u in users if "officer" in u.roles and task.lane in effective_lanes(u.lanes)
            and (task.lane != SCHOOL_LANE or (task.school is not None and u.school == task.school))]


def missing(session: Session, now: datetime | None = None,
            config: Settings | None = None) -> list[Notification | MailOut]:
    """The notices due now that nobody has made yet, and the e-mails that go with them when the office
    sends e-mail (read only: the caller adds them)."""
    now = now or datetime.now(UTC)
    tasks = session.scalars(select(HumanTask).where(HumanTask.status == "ready", or_(
        HumanTask.created_at >= now - NEW_WINDOW, HumanTask.due_at <= now + DUE_SOON_WINDOW))).all()
    if not tasks:
        return []
    made = {(u, t, k) for u, t, k in session.execute(
        select(Notification.username, Notification.task_id, Notification.kind)
        .where(Notification.task_id.in_([t.id for t in tasks])))}
    returned = set(session.scalars(select(TaskReturn.task_id).where(TaskReturn.task_id.in_([t.id for t in tasks]))))
    users = list(session.scalars(select(User).where(User.active.is_(True))))
    wanted = [(task, kind, username) for task in tasks for kind in _kinds(task, now, returned)
              for username in recipients(task, users) if (username, task.id, kind) not in made]
    if not wanted:
        return []
    choices = preferences.of_people(session, {username for _t, _k, username in wanted})
    notices = [Notification(username=username, kind=kind, task_id=task.id, instance_id=task.instance_id,
                            title=task.name[:300], due_at=task.due_at, created_at=now,
                            shown=choices[(username, kind)].in_app)
               for task, kind, username in wanted]
    letters = outbox.for_notices(session, notices, choices, {u.username: u for u in users}, config, now)
    return [*notices, *letters]


def listing(session: Session, username: str, limit: int = 100) -> list[Notice]:
    rows = session.scalars(select(Notification).where(Notification.username == username, Notification.shown)
                           .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit))
    return [Notice(r.id, r.kind, r.task_id, r.instance_id, r.title, r.due_at, r.created_at, r.read_at is not None)
            for r in rows]


def unread(session: Session, username: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Notification).where(
        Notification.username == username, Notification.shown, Notification.read_at.is_(None))) or 0)


def mark_read(session: Session, username: str) -> None:
    session.execute(update(Notification).where(Notification.username == username, Notification.read_at.is_(None))
                    .values(read_at=datetime.now(UTC)))
