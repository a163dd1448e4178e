"""The instance list: what a person may see, newest first, as summaries (never whole instance rows).

Supervisors and the head of the group see all: the newest rows of ix_instances_monitor_started, stopped at
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

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, exists, or_, select, true, union
from sqlalchemy.orm import Session

from ..accounts import Actor
from ..assignments import HEAD_LANE, readers
from ..models import Event, HumanTask, Instance, ProcessVersion
from ..thai_calendar import iso_time
from .rows import InstanceSummary

WINDOW = 400

COLUMNS = (Instance.id, Instance.process_key, ProcessVersion.name, Instance.title, Instance.status,
           Instance.fiscal_year, Instance.started_by, Instance.started_at, Instance.updated_at)


# Statements are built once per shape (who is reading: how many people, how many lanes each, a
# school or not; which filters) with every value a bound parameter, as in engine/read/inbox.py.
Person = tuple[int, bool, bool]  # lanes, has a school, reads as a school's user
Shape = tuple[tuple[Person, ...], bool, bool, bool]  # people; filtered by process, status, fiscal year


def _shape(people: list[Actor], process: str | None, status: str | None,
           fiscal_year: int | None) -> tuple[Shape, dict[str, Any]]:
    params: dict[str, Any] = {"process": process, "status": status, "fiscal_year": fiscal_year}
    shape = []
    for n, person in enumerate(people):
        lanes = sorted(person.works_lanes)
        params.update({f"user_{n}": person.username, f"school_{n}": person.school},
                      **{f"lane_{n}_{k}": lane for k, lane in enumerate(lanes)})
        shape.append((len(lanes), person.school is not None, person.school_only))
    return (tuple(shape), bool(process), bool(status), bool(fiscal_year)), params


def _filters(shape: Shape) -> list[ColumnElement[bool]]:
    _, process, status, fiscal_year = shape
    conditions: list[ColumnElement[bool]] = []
    if process:
        conditions.append(Instance.process_key == bindparam("process"))
    if status:
        conditions.append(Instance.status == bindparam("status"))
    if fiscal_year:
        conditions.append(Instance.fiscal_year == bindparam("fiscal_year"))
    return conditions


def _in_lanes(n: int, person: Person) -> list[ColumnElement[bool]]:
    """A task of person n's lanes, of no school or of their own school (school_scope.open_to)."""
    lanes, has_school, _ = person
    school: ColumnElement[bool] = HumanTask.school.is_(None)
    if has_school:
        school = or_(school, HumanTask.school == bindparam(f"school_{n}"))
    return [HumanTask.lane.in_([bindparam(f"lane_{n}_{k}") for k in range(lanes)]), school]


def _seen_by(n: int, person: Person) -> ColumnElement[bool]:
    """Per instance row: whether person n started it, has a task of their lanes in it, or took part."""
    seen = [Instance.started_by == bindparam(f"user_{n}"),
            exists().where(HumanTask.instance_id == Instance.id, *_in_lanes(n, person))]
    if not person[2]:  # a school's user sees only instances with their school's rounds
        seen.append(exists().where(Event.instance_id == Instance.id, Event.actor == bindparam(f"user_{n}")))
    return or_(*seen)


def _ids_seen_by(n: int, person: Person) -> list[Select[str]]:
    """The same, as sets of ids read from the indexes (for people who see few instances)."""
    ids = [select(Instance.id).where(Instance.started_by == bindparam(f"user_{n}")),
           select(HumanTask.instance_id).where(*_in_lanes(n, person))]
    if not person[2]:
        ids.append(select(Event.instance_id).where(Event.actor == bindparam(f"user_{n}")))
    return ids


@dataclass(frozen=True)
class _Statements:
    everything: Select[*tuple[Any, ...]]  # for those who read all
    cut: Select[*tuple[Any, ...]]  # started_at of the oldest instance in the window
    in_window: Select[*tuple[Any, ...]]  # way 1
    visible: Select[*tuple[Any, ...]]  # way 1 when there are fewer instances than the window
    gathered: Select[*tuple[Any, ...]]  # way 2


@lru_cache(maxsize=256)
def _statements(shape: Shape) -> _Statements:
    filters = _filters(shape)
    listed = (select(*COLUMNS).join(ProcessVersion, ProcessVersion.id == Instance.version_id).where(*filters)
              .order_by(Instance.started_at.desc(), Instance.id).limit(bindparam("limit")).offset(bindparam("offset")))
    people = shape[0]
    visible = or_(*(_seen_by(n, person) for n, person in enumerate(people))) if people else true()
    cut = (select(Instance.started_at).where(*filters).order_by(Instance.started_at.desc())
           .offset(bindparam("window")).limit(1))
    gathered = listed
    if people:
        gathered = listed.where(Instance.id.in_(union(*(q for n, person in enumerate(people)
                                                        for q in _ids_seen_by(n, person)))))
    return _Statements(listed, cut, listed.where(visible, Instance.started_at >= bindparam("cut")),
                       listed.where(visible), gathered)


def _summary(r: Row[*tuple[Any, ...]]) -> InstanceSummary:
    return InstanceSummary(id=r.id, process=r.process_key, name=r.name, title=r.title, status=r.status,
                           fiscal_year=r.fiscal_year, started_by=r.started_by,
                           started_at=iso_time(r.started_at), updated_at=iso_time(r.updated_at))


def rows(session: Session, actor: Actor, process: str | None, status: str | None, fiscal_year: int | None,
         limit: int, offset: int) -> list[InstanceSummary]:
    people = readers(session, actor)  # the actor, and those they act for today
    reads_all = any(p.reads_all or HEAD_LANE in p.works_lanes for p in people)
    shape, params = _shape([] if reads_all else people, process, status, fiscal_year)
    params.update(limit=limit, offset=offset)
    statements = _statements(shape)

    def page(query: Select[*tuple[Any, ...]], **extra: Any) -> list[InstanceSummary]:
        return [_summary(row) for row in session.execute(query, params | extra)]

    if reads_all:
        return page(statements.everything)
    window = max(WINDOW, 4 * (offset + limit))
    cut = session.scalar(statements.cut, params | {"window": window - 1})
    if cut is None:  # fewer instances than the window: checking each is bounded already
        return page(statements.visible)
    found = page(statements.in_window, cut=cut)
    if len(found) == limit:
        return found
    return page(statements.gathered)
