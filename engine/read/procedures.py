"""The procedures a list can be filtered by: key and the name of its newest version, nothing else
(the filter needs neither a version's meta, decoded from JSON, nor its XML or spec)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import ProcessVersion


def names(session: Session) -> list[tuple[str, str]]:
    """(key, name) of every published procedure, by key."""
    newest = (select(ProcessVersion.key, func.max(ProcessVersion.version).label("v"))
              .group_by(ProcessVersion.key).subquery())
    query = (select(ProcessVersion.key, ProcessVersion.name)
             .join(newest, (ProcessVersion.key == newest.c.key) & (ProcessVersion.version == newest.c.v))
             .order_by(ProcessVersion.key))
    return [(key, name) for key, name in session.execute(query)]
