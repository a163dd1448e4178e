"""The procedures a list can be filtered by: key and the name of its newest version, nothing else
(the filter needs neither a version's meta, decoded from JSON, nor its XML or spec)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import ProcessVersion

# Built once: every list page (inbox, instances, /monitor) reads it for its filter.
_NEWEST = (select(ProcessVersion.key, func.max(ProcessVersion.version).label("v"))
           .group_by(ProcessVersion.key).subquery())
_NAMES = (select(ProcessVersion.key, ProcessVersion.name)
          .join(_NEWEST, (ProcessVersion.key == _NEWEST.c.key) & (ProcessVersion.version == _NEWEST.c.v))
          .order_by(ProcessVersion.key))


def names(session: Session) -> list[tuple[str, str]]:
    """(key, name) of every published procedure, by key."""
    return [(key, name) for key, name in session.execute(_NAMES)]
