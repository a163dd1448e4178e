"""The tables. Workflow state lives per instance; the parsed spec once per process version."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, true
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from . import origin


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    roles: Mapped[list[Any]] = mapped_column(default=list)
    # The lanes a person works, as rows of user_lanes (so "who works lane X" is a query, not a scan).
    lane_rows: Mapped[list[UserLane]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                     order_by="UserLane.lane")
    lanes: AssociationProxy[list[str]] = association_proxy("lane_rows", "lane",
                                                           creator=lambda lane: UserLane(lane=lane))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A school user belongs to one school: they see and complete only that school's rounds.
    school: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))  # for notices by e-mail (engine.notify.mail)
    # What they receive: kind -> [in-app, e-mail] (engine.notify.preferences); None: the defaults.
    notify: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class School(Base):
    """A school of the office's area, by its official code."""

    __tablename__ = "schools"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    """A signed-in browser session, so that signing out ends it on the server (a copied cookie dies)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    # The last request seen (to a minute): a session ends after an idle time, not a fixed time after sign-in.
    seen_at: Mapped[datetime | None] = mapped_column()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None: never expires (tokens issued before expiries existed); past it the token signs nobody in.
    expires_at: Mapped[datetime | None] = mapped_column()


class ProcessVersion(Base):
    """An immutable published version of a procedure: its XML, forms and serialized spec."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    # {"spec": ..., "subprocess_specs": ...} as SpiffWorkflow's serializer writes them.
    spec: Mapped[dict[str, Any]] = mapped_column()
    # What the engine needs without parsing: per task lane, form, name; end statuses; start lane.
    meta: Mapped[dict[str, Any]] = mapped_column()
    # The forms this version uses, by path, so running instances keep theirs when files change.
    forms: Mapped[dict[str, Any]] = mapped_column()
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What changed and why, in the publisher's words (migration 0014_version_notes); "" when none given.
    note: Mapped[str] = mapped_column(String(1000), default="", server_default="")


class Instance(Base):
    __tablename__ = "instances"
    # "Instances I started", newest first (the instance list, engine/read/instance_list.py). The indexes
    # by procedure, status, year and start begin the longer ones of engine/read/indexes.py.
    __table_args__ = (Index("ix_instances_started_by", "started_by", "started_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100))
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    status: Mapped[str] = mapped_column(String(20))
    fiscal_year: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300), default="")
    # The live workflow state without its spec (see engine.state).
    state: Mapped[dict[str, Any]] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column()
    # Optimistic lock: every write checks and bumps it, so two completions cannot both win.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()


class HumanTask(Base):
    """A user task round, so the inbox never deserializes a workflow. Ids are issued per round."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        # The inbox: one lane's ready tasks of no school (or of one school), newest first, read in index
        # order and stopped at the page (engine/read/inbox.py); an instance's ready tasks (every completion,
        # every /monitor page), narrow beside ix_human_tasks_dashboard: see tests/test_schema.py.
        Index("ix_human_tasks_inbox", "lane", "status", "school", "created_at", "id"),
        Index("ix_human_tasks_instance_status", "instance_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Looked up by the composite indexes that begin with it (engine/search/indexes.py).
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    task_spec: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str] = mapped_column(String(64))
    form: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))  # ready, completed, cancelled
    assignee: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_by: Mapped[str | None] = mapped_column(String(64))
    # The school whose round this is (a per-school step), or None: only that school's users see it.
    school: Mapped[str | None] = mapped_column(String(20), index=True)


class Event(Base):
    """Append-only history: the timeline, the audit trail and the dashboards are queries over it."""

    __tablename__ = "events"
    # "Instances I took part in" (the instance list) and an instance's timeline in order.
    __table_args__ = (Index("ix_events_actor_instance", "actor", "instance_id"),
                      Index("ix_events_instance_at", "instance_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))  # see search/indexes
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_spec: Mapped[str | None] = mapped_column(String(200))
    task_name: Mapped[str | None] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The request's (None: CLI, timers), for ORM flushes and Core INSERTs alike: the one place it is set.
    address: Mapped[str | None] = mapped_column(String(64), default=origin.current)


# --- officers' web app: delegations, attachments, sign-in throttling ------------------------------


class Delegation(Base):
    """Someone acts for a person who is away, for a period (รักษาราชการแทน / ปฏิบัติราชการแทน)."""

    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(primary_key=True)
    delegator: Mapped[str] = mapped_column(String(64), index=True)
    delegate: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "acting" (รักษาราชการแทน) or "deputy" (ปฏิบัติราชการแทน)
    starts_on: Mapped[date] = mapped_column()
    ends_on: Mapped[date] = mapped_column()
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class Attachment(Base):
    """A document attached to a task (a resolution, a signed letter), kept in the database."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginFailure(Base):
    """A failed sign-in, so repeated failures lock the name out for a while (in every process)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The client's address: failures lock a name out from that address only (engine/signin.py).
    address: Mapped[str | None] = mapped_column(String(64), index=True)


# --- everyday work: returned rounds and drafts (engine/rounds/) ----------------------------------

class TaskReturn(Base):
    """A round of a step that exists because a decision returned the work for revision: the inbox and
    the task page show who returned it, when and why (the `returned` event)."""

    __tablename__ = "task_returns"

    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)


class Draft(Base):
    """A form saved without completing its step, one per task and person; gone once the task is done."""

    __tablename__ = "drafts"

    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- search: one row of searchable text per instance ----------------------------------------------


class InstanceSearch(Base):
    """What a search box matches an instance by: its title, document numbers, schools and people, in
    one casefolded text kept current on every write (engine.search.index). A substring match (Thai
    has no spaces between words) cannot use a B-tree index, so the search reads this narrow row
    instead of the instance's state and data; newest first, like the instance list."""

    __tablename__ = "instance_search"

    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    # Copied from the instance, so the visibility rule runs on this row without reading the instance's.
    started_by: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")


# --- time: timers fired by the scheduler, holidays for working-day due dates (engine/time/) -------


class Timer(Base):
    """What fires when: a timer event an instance waits at, or a procedure's next scheduled start.

    The scheduler only polls and claims these rows (style.md 6): a row is claimed and fired in one
    transaction, so it fires exactly once, and a process that dies mid-firing leaves it pending."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_status_due", "status", "due_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # None for a scheduled start (timer start event): the procedure has no instance yet.
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    element: Mapped[str] = mapped_column(String(200))  # the timer event's BPMN id
    name: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(20))  # deadline, reminder, wait, start (engine.time.timers)
    spiff_task_id: Mapped[str | None] = mapped_column(String(36))
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, fired, cancelled
    # One row per scheduled start: "<process key>/<element>"; None for an instance's timers.
    start_key: Mapped[str | None] = mapped_column(String(310), unique=True)
    expression: Mapped[str | None] = mapped_column(String(200))  # a start's ISO 8601 date or cycle
    occurrence: Mapped[int] = mapped_column(Integer, default=0)  # a start's next occurrence, from 0
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fired_at: Mapped[datetime | None] = mapped_column()
    fired_by: Mapped[str | None] = mapped_column(String(100))  # host:pid of the worker


class Holiday(Base):
    """A day an admin set: a holiday the cabinet added (is_holiday) or a day the `holidays` package
    calls a holiday that is a working day this year (a holiday moved away)."""

    __tablename__ = "holidays"

    day: Mapped[date] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_holiday: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """An in-app notice to one person about one task: new in their lanes, due soon, overdue. Unique per
    (person, task, kind), so that several workers making notices never make one twice."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("username", "task_id", "kind"),
                      Index("ix_notifications_username_read", "username", "read_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))  # new, due_soon, overdue (engine.notify.inbox)
    task_id: Mapped[str] = mapped_column(String(36))
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()
    shown: Mapped[bool] = mapped_column(default=True, server_default=true())


# --- people and access (admin): lanes as data, the audit trail, passwords to change ----------------


class Lane(Base):
    """A lane of the office (a role of the manual, or one an admin added); seeded from engine.roles."""

    __tablename__ = "lanes"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # An outside body (a board, the governor): it does not sign in; a plan officer records its decisions.
    outside: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Append-only: who changed what about people and access, when, from which address."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PasswordReset(Base):
    """An admin reset this person's password: they must choose their own at their next sign-in."""

    __tablename__ = "password_resets"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    reset_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


# --- read side at scale (issue 14): the lanes of each user as rows --------------------------------


class UserLane(Base):
    """One lane a user works (their own lanes, as an admin gave them; not those of people they act for)."""

    __tablename__ = "user_lanes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    lane: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


# Tables of later features live beside their code; imported here so that every table is on Base.metadata
# (Alembic, create_all) and `from engine.models import ...` finds them all.
from .authoring.model import ProcessDraft as ProcessDraft  # noqa: E402
from .notify.model import MailOut as MailOut  # noqa: E402
from .read import indexes as indexes  # noqa: E402 - the supervisor's list and dashboard
from .search import indexes as search_indexes  # noqa: E402, F401 - the search row's refresh
