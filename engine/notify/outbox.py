"""The outbox: e-mails queued in the database with what caused them, sent by the polling job outside
any instance transaction.

Queued once: each letter has a unique key (a notice's "notice:<person>:<task>:<kind>", a digest's
"digest:<person>:<day>"), so a second worker queueing the same one fails instead of doubling it. Sent at
most once: a worker claims a batch (status `sending`; on PostgreSQL FOR UPDATE SKIP LOCKED, on SQLite
the write lock) and commits the claim before talking to the SMTP server, then records each outcome. A
failure puts the letter back for a later try (with a growing wait) and is logged; after MAX_ATTEMPTS,
or when the server refuses the address, it is given up (`failed`, with the reason). A claim is a lease
(`next_at` moves LEASE ahead): a worker that dies between the claim and the outcome leaves its letters
`sending` until the lease runs out, and another worker then sends them. A letter is never lost; it may
go twice only if the worker died after the server took it and before the outcome was written.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..db import Database
from ..models import MailOut, Notification, User
from ..rounds import returned
from ..thai_calendar import thai_datetime
from . import mail
from .preferences import RETURNED, Choice

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
BATCH = 50
MAX_ATTEMPTS = 8
log = logging.getLogger("khanton.mail")

SUBJECTS = {"new": "งานใหม่", "returned": "งานถูกส่งกลับให้แก้ไข", "due_soon": "งานใกล้ครบกำหนด",
            "overdue": "งานเกินกำหนด"}
OPENINGS = {"new": "มีงานใหม่ในความรับผิดชอบของท่าน", "returned": "งานที่ท่านส่งไปถูกส่งกลับให้แก้ไข",
            "due_soon": "งานของท่านจะครบกำหนดภายใน 1 วัน", "overdue": "งานของท่านเกินกำหนดแล้ว"}
FOOTER = "ข้อความนี้ส่งจากระบบขั้นตอน (Khanton) โดยอัตโนมัติ เลือกการแจ้งเตือนที่ต้องการรับได้ที่ {link}\n"


def greeting(user: User) -> str:
    return f"เรียน {user.display_name or user.username}\n\n"


def notice_letter(config: mail.Settings, user: User, notice: Notification, note: str = "") -> mail.Letter:
    lines = [f"{OPENINGS.get(notice.kind, 'การแจ้งเตือน')}: {notice.title}"]
    if note:
        lines.append(f"เหตุผลที่ส่งกลับ: {note}")
    if notice.due_at is not None:
        lines.append(f"กำหนดเสร็จ: {thai_datetime(notice.due_at)}")
    lines.append(f"เปิดงาน: {config.link('/tasks/' + notice.task_id)}")
    body = greeting(user) + "\n".join(lines) + "\n\n" + FOOTER.format(link=config.link("/account/notifications"))
    subject = f"[ขั้นตอน] {SUBJECTS.get(notice.kind, 'การแจ้งเตือน')}: {notice.title}"
    return mail.Letter(user.email or "", subject[:300], body)


def for_notices(session: Session, notices: Sequence[Notification], choices: Mapping[tuple[str, str], Choice],
                users: Mapping[str, User], config: mail.Settings | None, now: datetime) -> list[MailOut]:
    """The letters for new notices, to those who chose e-mail for that kind and have an address; none
    while the office has no SMTP server (nothing piles up to be sent the day one is set)."""
    config = config or mail.settings()
    if not config.enabled:
        return []
    wanted = [n for n in notices if n.username in users and users[n.username].email
              and choices[(n.username, n.kind)].email]
    notes = returned.of_tasks(session, [n.task_id for n in wanted if n.kind == RETURNED])
    letters = []
    for notice in wanted:
        why = notes.get(notice.task_id)
        letter = notice_letter(config, users[notice.username], notice, why.note if why else "")
        letters.append(MailOut(key=f"notice:{notice.username}:{notice.task_id}:{notice.kind}",
                               username=notice.username, address=letter.to, subject=letter.subject,
                               body=letter.body, status=PENDING, attempts=0, next_at=now, created_at=now))
    return letters


LEASE = timedelta(minutes=10)  # far longer than one batch takes; after it a claim is taken as abandoned


def _claim(db: Database, now: datetime, worker: str) -> list[tuple[int, mail.Letter, int]]:
    due = (MailOut.status.in_((PENDING, SENDING)), MailOut.next_at <= now)  # waiting, or its lease ran out
    with db.transaction(read_only=True) as session:  # SQLite: no write lock while nothing waits
        if not session.scalar(select(exists().where(*due))):
            return []
    with db.transaction() as session:
        rows = session.scalars(select(MailOut).where(*due)
                               .order_by(MailOut.id).limit(BATCH).with_for_update(skip_locked=True)).all()
        for row in rows:
            row.status, row.claimed_by, row.attempts = SENDING, worker, row.attempts + 1
            row.next_at = now + LEASE
        return [(row.id, mail.Letter(row.address, row.subject, row.body), row.attempts) for row in rows]


def wait_after(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 360))


def send_due(db: Database, config: mail.Settings, worker: str, now: datetime | None = None) -> int:
    """Claim and send the letters due now (one batch); how many were sent."""
    now = now or datetime.now(UTC)
    claimed = _claim(db, now, worker)
    if not claimed:
        return 0
    try:
        outcomes = mail.send(config, [letter for _id, letter, _n in claimed])
    except mail.MailFailure as err:
        outcomes = [mail.Outcome(False, err.message)] * len(claimed)
    except Exception as err:  # noqa: BLE001 - whatever went wrong, the claimed letters get an outcome
        log.exception("sending mail failed unexpectedly")
        outcomes = [mail.Outcome(False, f"ส่งไม่สำเร็จ: {err}")] * len(claimed)
    sent = 0
    with db.transaction() as session:
        for (row_id, letter, attempts), outcome in zip(claimed, outcomes, strict=True):
            row = session.get(MailOut, row_id)
            if row is None:
                continue
            if outcome.sent:
                row.status, row.sent_at, row.error = SENT, datetime.now(UTC), None
                sent += 1
                continue
            row.error = outcome.error[:500]
            if outcome.retry and attempts < MAX_ATTEMPTS:
                row.status, row.next_at = PENDING, now + wait_after(attempts)
                log.warning("mail to %s not sent (try %d, again later): %s", letter.to, attempts, outcome.error)
            else:
                row.status = FAILED
                log.error("mail to %s given up after %d tries: %s", letter.to, attempts, outcome.error)
    return sent
