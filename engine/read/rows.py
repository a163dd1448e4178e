"""Typed rows per audience: the API's task and instance summaries, the officers' inbox, and capped counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..rounds.returned import Returned
from ..thai_calendar import iso_time


@dataclass(frozen=True)
class Count:
    """A count that stops at a cap: `n` exactly when `more` is False, else "more than n"."""

    n: int
    more: bool = False

    @classmethod
    def capped(cls, found: int, cap: int) -> Count:
        return cls(min(found, cap), found > cap)

    def __str__(self) -> str:
        return f"{self.n}+" if self.more else str(self.n)


@dataclass(frozen=True)
class TaskSummary:
    """A ready task as the JSON API lists it (api.md: TaskSummary)."""

    id: str
    instance: str
    name: str
    lane: str
    process: str
    status: str
    school: str | None
    created_at: datetime | None
    due_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "instance": self.instance, "name": self.name, "lane": self.lane,
                "process": self.process, "status": self.status, "school": self.school,
                "created_at": iso_time(self.created_at) if self.created_at else None,
                "due_at": iso_time(self.due_at) if self.due_at else None}


@dataclass(frozen=True)
class InboxRow:
    """One line of an officer's inbox page."""

    id: str
    instance: str
    name: str
    step: str
    lane: str
    lane_name: str
    process: str
    process_name: str
    title: str
    fiscal_year: int | None
    started_by: str
    started_by_name: str
    created_at: datetime
    due_at: datetime | None
    assignee: str | None
    assignee_name: str | None
    acting_for: str | None
    acting_for_name: str | None
    returned: Returned | None = None  # this round follows a return for revision: who, when, why


@dataclass(frozen=True)
class InboxPage:
    """A page of the inbox, whether another follows, how many tasks wait in all (capped), the lanes the
    person works today (their own and those of people they act for), the badge's count, and the
    procedures to filter by (key, name) — all read in one unit of work; and the person's unread notices
    (the page's header: counted with the page's counts, engine/read/header.py)."""

    rows: list[InboxRow]
    has_next: bool
    total: Count
    lanes: frozenset[str]
    waiting: Count
    procedures: list[tuple[str, str]]
    unread: int = 0


@dataclass(frozen=True)
class InstanceSummary:
    """An instance as the lists show it (api.md: InstanceSummary); moments as ISO text, Bangkok clock."""

    id: str
    process: str
    name: str
    title: str
    status: str
    fiscal_year: int | None
    started_by: str
    started_at: str
    updated_at: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "process": self.process, "name": self.name, "title": self.title,
                "status": self.status, "fiscal_year": self.fiscal_year, "started_by": self.started_by,
                "started_at": self.started_at, "updated_at": self.updated_at}


@dataclass(frozen=True)
class InstanceListPage:
    """A page of the instance list (one row more than asked tells there is a next page) and the
    procedures to filter by (key, name)."""

    rows: list[InstanceSummary]
    procedures: list[tuple[str, str]]
