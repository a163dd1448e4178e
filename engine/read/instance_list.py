"""The instance list: what a person may see, newest first, as summaries (never whole instance rows).

Supervisors and the head of the group see all: the newest rows of ix_instances_started_at, stopped at
the page. Anyone else sees what they (or those they act for today) started, took part in, or what has
a task in their lanes (a school's user: only with a round of their own school, school_scope). Two
ways to find those, each fast where the other is slow:

1. Most people see much of what happens recently: walk the newest instances in started_at order and
   check each (indexed look-ups in human_tasks and events) until the page is full — but only within a
   window of the newest WINDOW instances, so a person who sees little never walks 100,000 rows.
2. If the window did not fill the page: gather the ids they may see from the indexes (who started it,
   tasks of their lanes, events they made) and sort just those.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, Select, exists, or_, select, union
from sqlalchemy.orm import Session

from .. import school_scope
from ..accounts import Actor
from ..assignments import HEAD_LANE, readers
from ..models import Event, HumanTask, Instance, ProcessVersion
from ..thai_calendar import iso_time
from .rows import InstanceSummary

WINDOW = 400

COLUMNS = (Instance.id, Instance.process_key, ProcessVersion.name, Instance.title, Instance.status,
           Instance.fiscal_year, Instance.started_by, Instance.started_at, Instance.updated_at)


def _filters(process: str | None, status: str | None, fiscal_year: int | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if process:
        conditions.append(Instance.process_key == process)
    if status:
        conditions.append(Instance.status == status)
    if fiscal_year:
        conditions.append(Instance.fiscal_year == fiscal_year)
    return conditions


def _seen_by(person: Actor) -> ColumnElement[bool]:
    """Per instance row: whether `person` started it, has a task of their lanes in it, or took part."""
    seen = [Instance.started_by == person.username,
            exists().where(HumanTask.instance_id == Instance.id, HumanTask.lane.in_(sorted(person.works_lanes)),
                           school_scope.open_to(person))]
    if not person.school_only:  # a school's user sees only instances with their school's rounds
        seen.append(exists().where(Event.instance_id == Instance.id, Event.actor == person.username))
    return or_(*seen)


def _ids_seen_by(person: Actor) -> list[Select[str]]:
    """The same, as sets of ids read from the indexes (for people who see few instances)."""
    ids = [select(Instance.id).where(Instance.started_by == person.username),
           select(HumanTask.instance_id).where(HumanTask.lane.in_(sorted(person.works_lanes)),
                                               school_scope.open_to(person))]
    if not person.school_only:
        ids.append(select(Event.instance_id).where(Event.actor == person.username))
    return ids


def _summary(r: Row[*tuple[Any, ...]]) -> InstanceSummary:
    return InstanceSummary(id=r.id, process=r.process_key, name=r.name, title=r.title, status=r.status,
                           fiscal_year=r.fiscal_year, started_by=r.started_by,
                           started_at=iso_time(r.started_at), updated_at=iso_time(r.updated_at))


def rows(session: Session, actor: Actor, process: str | None, status: str | None, fiscal_year: int | None,
         limit: int, offset: int) -> list[InstanceSummary]:
    filters = _filters(process, status, fiscal_year)
    listed = (select(*COLUMNS).join(ProcessVersion, ProcessVersion.id == Instance.version_id).where(*filters)
              .order_by(Instance.started_at.desc(), Instance.id))

    def page(query: Select[*tuple[Any, ...]]) -> list[InstanceSummary]:
        return [_summary(row) for row in session.execute(query.limit(limit).offset(offset))]

    people = readers(session, actor)  # the actor, and those they act for today
    if any(p.reads_all or HEAD_LANE in p.works_lanes for p in people):
        return page(listed)
    visible = or_(*(_seen_by(p) for p in people))
    window = max(WINDOW, 4 * (offset + limit))
    cut = session.scalar(select(Instance.started_at).where(*filters).order_by(Instance.started_at.desc())
                         .offset(window - 1).limit(1))
    if cut is None:  # fewer instances than the window: checking each is bounded already
        return page(listed.where(visible))
    found = page(listed.where(visible, Instance.started_at >= cut))
    if len(found) == limit:
        return found
    return page(listed.where(Instance.id.in_(union(*(q for p in people for q in _ids_seen_by(p))))))
