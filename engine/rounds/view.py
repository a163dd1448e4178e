"""What a task's view adds about its round: why it exists, the caller's draft, earlier decisions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from ..accounts import Actor
from ..models import HumanTask
from . import answer_by, drafts, returned


def rounds_view(session: Session, task_id: str, actor: Actor, form: Mapping[str, Any]) -> dict[str, Any]:
    """`returned` and `draft` (api.md: GET /tasks/{id}) and `earlier_rounds`, JSON-ready; the caller
    has checked that the task may be seen. A school's user reads the instance's data only as far as
    their school goes (school_scope): the office's decisions on a task not theirs are not shown."""
    row = session.get(HumanTask, task_id)
    assert row is not None
    draft = drafts.of(session, task_id, actor.username) if row.status == "ready" else None
    if actor.school_only and not actor.may_work(row):
        return {"returned": None, "draft": draft.as_json() if draft else None, "earlier_rounds": [],
                "answer_rounds": []}
    back = returned.of_task(session, task_id)
    answers = [] if actor.school_only else [a.as_json() for a in answer_by.summaries(session, row.instance_id)]
    return {"returned": back.as_json() if back else None, "answer_rounds": answers,
            "draft": draft.as_json() if draft else None,
            "earlier_rounds": [r.as_json() for r in returned.earlier_rounds(session, row, form)]}
