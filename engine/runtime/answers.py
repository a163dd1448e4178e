"""The answer to a write, built from what the write has in memory (queries.instance_view reads it all
again). The same shape as queries.instance_view, checked by tests/test_unit_of_work.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .. import queries
from ..accounts import Actor
from ..models import HumanTask, Instance
from ..thai_calendar import iso_time
from .versions import CompiledVersion


def instance_view(session: Session, instance: Instance, version: CompiledVersion, ready: list[HumanTask],
                  actor: Actor) -> dict[str, Any]:
    """The instance after a write, as `actor` may read it. A school's user sees only some rounds and
    some data (school_scope): that view reads what it needs."""
    if actor.school_only:
        return queries.instance_view(session, instance, actor)
    return {
        "id": instance.id, "process": instance.process_key, "version": version.version,
        "name": version.name, "title": instance.title, "status": instance.status,
        "fiscal_year": instance.fiscal_year, "started_by": instance.started_by,
        "started_at": iso_time(instance.started_at), "updated_at": iso_time(instance.updated_at),
        "ended_at": iso_time(instance.ended_at) if instance.ended_at else None,
        "data": instance.data,
        "ready_tasks": [queries.task_summary(t, instance.process_key) for t in ready],
    }
