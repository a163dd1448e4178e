"""The daily digest: once a day, from the configured hour (Bangkok time), each person who chose it and
has an e-mail address gets one letter listing their tasks due within the week and those overdue.

Exactly once per day: the letter's key is "digest:<person>:<day>" (unique in the outbox), so several
workers, or a worker restarted the same day, find it queued and queue no second one; the outbox sends
it at most once. A person with no such task gets no letter that day.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import HumanTask, MailOut, User
from ..thai_calendar import bangkok, thai_date, thai_datetime
from . import mail, outbox, preferences
from .inbox import recipients

AHEAD = timedelta(days=7)
LISTED = 50  # tasks named in one letter; the rest are counted


def day_of(config: mail.Settings, now: datetime) -> str | None:
    """The Bangkok day whose digest is due at `now` (None before the hour)."""
    local = bangkok(now)
    return local.date().isoformat() if local.hour >= config.digest_hour else None


def _letter(config: mail.Settings, user: User, tasks: list[HumanTask], now: datetime) -> mail.Letter:
    tasks = sorted(tasks, key=lambda t: (t.due_at or now, t.name))
    overdue = [t for t in tasks if t.due_at is not None and outbox_utc(t.due_at) <= now]
    lines = [f"งานที่ครบกำหนดภายใน 7 วันและงานที่เกินกำหนดของท่าน ณ {thai_date(bangkok(now).date())}: "
             f"{len(tasks)} งาน (เกินกำหนด {len(overdue)} งาน)", ""]
    for task in tasks[:LISTED]:
        late = " [เกินกำหนด]" if task in overdue else ""
        due = thai_datetime(task.due_at) if task.due_at else "-"
        lines.append(f"- {task.name}{late} กำหนดเสร็จ {due}\n  {config.link('/tasks/' + task.id)}")
    if len(tasks) > LISTED:
        lines.append(f"... และอีก {len(tasks) - LISTED} งาน ดูทั้งหมดได้ที่ {config.link('/')}")
    body = outbox.greeting(user) + "\n".join(lines) + "\n\n" + outbox.FOOTER.format(
        link=config.link("/account/notifications"))
    subject = f"[ขั้นตอน] สรุปงานประจำวัน {thai_date(bangkok(now).date())}: {len(tasks)} งาน"
    if overdue:
        subject += f" เกินกำหนด {len(overdue)}"
    return mail.Letter(user.email or "", subject[:300], body)


def outbox_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def missing(session: Session, config: mail.Settings, now: datetime) -> list[MailOut]:
    """Today's digests not queued yet (read only: the caller adds them)."""
    day = day_of(config, now)
    if day is None or not config.enabled:
        return []
    users = list(session.scalars(select(User).where(User.active.is_(True), User.email.is_not(None))))
    choices = preferences.of_people(session, [u.username for u in users])
    users = [u for u in users if choices[(u.username, preferences.DIGEST)].email]
    if not users:
        return []
    keys = {u.username: f"digest:{u.username}:{day}" for u in users}
    queued = set(session.scalars(select(MailOut.key).where(MailOut.key.in_(list(keys.values())))))
    users = [u for u in users if keys[u.username] not in queued]
    if not users:
        return []
    tasks = session.scalars(select(HumanTask).where(HumanTask.status == "ready", HumanTask.due_at.is_not(None),
                                                    HumanTask.due_at <= now + AHEAD)).all()
    theirs: dict[str, list[HumanTask]] = defaultdict(list)
    for task in tasks:
        for username in recipients(task, users):
            theirs[username].append(task)
    letters = []
    for user in users:
        if theirs[user.username]:
            letter = _letter(config, user, theirs[user.username], now)
            letters.append(MailOut(key=keys[user.username], username=user.username, address=letter.to,
                                   subject=letter.subject, body=letter.body, status=outbox.PENDING, attempts=0,
                                   next_at=now, created_at=now))
    return letters
