"""What a task's view adds about its round: why it exists, the caller's draft, earlier decisions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from ..models import HumanTask
from . import drafts, returned


def rounds_view(session: Session, task_id: str, username: str, form: Mapping[str, Any]) -> dict[str, Any]:
    """`returned` and `draft` (api.md: GET /tasks/{id}) and `earlier_rounds`, JSON-ready; the caller
    has checked that the task may be seen."""
    row = session.get(HumanTask, task_id)
    assert row is not None
    back = returned.of_task(session, task_id)
    draft = drafts.of(session, task_id, username) if row.status == "ready" else None
    return {"returned": back.as_json() if back else None,
            "draft": draft.as_json() if draft else None,
            "earlier_rounds": [r.as_json() for r in returned.earlier_rounds(session, row, form)]}
