"""Drafts of a procedure's diagram: saved on the server (who, when, a note), many per procedure.

The smallest form of the editor's drafts (issue 8): the import saves what it opened here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import ProcessDraft

MAX_NOTE = 1000


@dataclass(frozen=True)
class Draft:
    id: int
    key: str
    xml: str
    forms: dict[str, Any]
    author: str
    note: str
    created_at: datetime


def save_draft(session: Session, key: str, xml: str, forms: dict[str, Any], author: str, note: str = "") -> int:
    """Keep a draft (with problems, if it has any: only publishing refuses them); its id."""
    draft = ProcessDraft(key=key, xml=xml, forms=dict(forms), author=author, note=note[:MAX_NOTE])
    session.add(draft)
    session.flush()
    return draft.id


def get_draft(session: Session, draft_id: int) -> Draft:
    row = session.get(ProcessDraft, draft_id)
    if row is None:
        raise NotFound(f"ไม่พบฉบับร่างหมายเลข {draft_id}")
    return Draft(row.id, row.key, row.xml, dict(row.forms), row.author, row.note, row.created_at)
