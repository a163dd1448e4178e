"""A reminder (a non-interrupting boundary timer, e.g. `R/P7D` on a task awaiting an outside body's
decision) tells the people who would record it: an in-app notice of kind `reminder`, beside the
timeline's `timer` event. One notice per person and task (the notices' unique key): each later firing
puts it back at the top of the list, unread, saying how many times the task was reminded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import HumanTask, Notification, Timer, User
from ..notify import inbox

REMINDER_NOTICE = "reminder"


def notify(session: Session, task: HumanTask, row: Timer, now: datetime) -> int:
    """Make or renew the reminder notices of `task` for its row's firing; how many people were told."""
    times = session.scalar(select(func.count()).select_from(Timer).where(
        Timer.instance_id == row.instance_id, Timer.element == row.element, Timer.status == "fired")) or 1
    title = (f"{task.name} (เตือนครั้งที่ {times})" if times > 1 else task.name)[:300]
    users = list(session.scalars(select(User).where(User.active.is_(True))))
    recipients = inbox.recipients(task, users)  # the same people the inbox shows it to
    existing = {n.username: n for n in session.scalars(select(Notification).where(
        Notification.task_id == task.id, Notification.kind == REMINDER_NOTICE))}
    for username in recipients:
        notice = existing.get(username)
        if notice is None:
            session.add(Notification(username=username, kind=REMINDER_NOTICE, task_id=task.id,
                                     instance_id=task.instance_id, title=title, due_at=task.due_at, created_at=now))
        else:
            notice.title, notice.created_at, notice.read_at = title, now, None
    return len(recipients)
