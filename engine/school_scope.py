"""What a school's user may read of an instance: its own school's rounds, never another school's.

A school's user (Actor.school_only) reads an instance only when one of its rounds is their school's.
Of such an instance they get the start data, and of each of their school's rounds its input (the row
{"code", "name"} the office listed, under the round's input item name) and their own answer (its fields
at the top, as their form names them) — nothing any other step wrote, since later steps gather every
school's answers. Timeline events of other schools' rounds are left out; other
events keep who, what and when, without their data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from .accounts import Actor
from .models import Event, HumanTask, Instance, ProcessVersion, School


def open_to(actor: Actor) -> ColumnElement[bool]:
    """Rounds the actor's school may have: not a school's round, or their own school's."""
    if actor.school is None:
        return HumanTask.school.is_(None)
    return or_(HumanTask.school.is_(None), HumanTask.school == actor.school)


def hidden_rounds(session: Session, actor: Actor, instance_id: str) -> set[str]:
    """Ids of the instance's rounds that belong to other schools (none for anyone but a school's user)."""
    if not actor.school_only:
        return set()
    others = select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.school.is_not(None))
    if actor.school is not None:
        others = others.where(HumanTask.school != actor.school)
    return set(session.scalars(others))


def _input_item(version: ProcessVersion, task_spec: str) -> str | None:
    for process in version.meta.get("processes", {}).values():
        meta = process.get("tasks", {}).get(task_spec)
        if meta:
            item = meta.get("input_item")
            return item if isinstance(item, str) else None
    return None


def data(session: Session, actor: Actor, instance: Instance) -> dict[str, Any]:
    """The instance data a school's user reads: start data, their rounds' inputs and their answers."""
    started = session.scalars(select(Event.data).where(Event.instance_id == instance.id, Event.kind == "started")
                              .order_by(Event.id).limit(1)).first()
    result: dict[str, Any] = dict(started or {})
    if actor.school is None:
        return result
    rounds = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.school == actor.school)
                             .order_by(HumanTask.created_at, HumanTask.id)).all()
    if not rounds:
        return result
    version = session.get(ProcessVersion, instance.version_id)
    school = session.get(School, actor.school)
    assert version is not None
    answers = {e.task_id: e.data for e in session.scalars(select(Event).where(
        Event.instance_id == instance.id, Event.kind == "completed",
        Event.task_id.in_([r.id for r in rounds])).order_by(Event.id))}
    for row in rounds:
        input_item = _input_item(version, row.task_spec)
        if input_item:
            result[input_item] = {"code": actor.school, "name": school.name if school else actor.school}
        answer = answers.get(row.id)
        if answer is not None:  # at the top, as the round's form names its fields (the pages label them)
            result.update({k: v for k, v in answer.items() if k != "acting_for"})
    return result


def timeline(events: list[dict[str, Any]], hidden: set[str], own: set[str]) -> list[dict[str, Any]]:
    """A school's user's timeline: other schools' rounds left out, data only on the start and their rounds."""
    kept = []
    for event in events:
        if event["task"] in hidden:
            continue
        if event["kind"] != "started" and event["task"] not in own:
            event = {**event, "data": None}
        kept.append(event)
    return kept


def own_rounds(session: Session, actor: Actor, instance_id: str) -> set[str]:
    if actor.school is None:
        return set()
    return set(session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.school == actor.school)))
