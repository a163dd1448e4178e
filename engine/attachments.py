"""Documents attached to a task: checked by name and content, kept in the database, size-limited.

Only PDF, images and Office files are accepted, and the first bytes must agree with the name's
type, so a page can never be made to serve HTML or script as an "attachment".
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .accounts import Actor
from .assignments import Worker, check_holder, hold_for_writing
from .errors import Conflict, Forbidden, InvalidData, NotFound, TooLarge
from .models import Attachment, Event, HumanTask, Instance
from .queries import may_see
from .school_scope import hidden_rounds

MAX_BYTES = 5 * 1024 * 1024

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# extension -> (content type served, accepted leading bytes)
TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (_ZIP,)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (_ZIP,)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (_ZIP,)),
    "odt": ("application/vnd.oasis.opendocument.text", (_ZIP,)),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (_ZIP,)),
    "doc": ("application/msword", (_OLE,)),
    "xls": ("application/vnd.ms-excel", (_OLE,)),
    "ppt": ("application/vnd.ms-powerpoint", (_OLE,)),
}
ACCEPT = ",".join("." + ext for ext in TYPES)


def clean_filename(name: str) -> str:
    """The last path part, without control, invisible, direction-changing or path characters, at most
    200 characters."""
    name = name.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate could not be stored
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    # Invisible and direction-changing characters (U+202E, zero-width, line separators) go too: with a
    # right-to-left override, "report\u202excod.pdf" is shown as "reportfdp.docx" (trust battery, #13).
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cf", "Zl", "Zp"))
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", name).strip().strip(".")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 190] + dot + ext) if dot else name[:200]
    return name or "file"


def add(session: Session, worker: Worker, task_id: str, filename: str, content: bytes | None) -> Attachment:
    """Attach a document to a ready task the worker may work and nobody else holds; `content` None
    when no file was sent. Refusals, first that applies: 404, 403, 409, 413, 422."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"ไม่พบงาน {task_id}")
    if not worker.actor.may_work(task):
        raise Forbidden("แนบเอกสารได้เฉพาะงานที่อยู่ในความรับผิดชอบของคุณ")
    check_holder(session, task, worker.stands_for)
    if task.status != "ready":
        raise Conflict("งานนี้ดำเนินการไปแล้ว แนบเอกสารเพิ่มไม่ได้", {"task": task.id, "status": task.status})
    if content is not None and len(content) > MAX_BYTES:
        raise TooLarge(f"ไฟล์ใหญ่เกิน {MAX_BYTES // (1024 * 1024)} MB")
    if not content:
        raise InvalidData.one("file", "ไม่มีไฟล์ที่แนบมา หรือไฟล์ว่างเปล่า (ส่งไฟล์ในช่อง file)")
    name = clean_filename(filename)
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in TYPES:
        raise InvalidData.one("file", "รับเฉพาะไฟล์ PDF รูปภาพ (PNG, JPG) และเอกสาร Office ("
                        + ", ".join(sorted(TYPES)) + ")")
    content_type, magics = TYPES[ext]
    if not any(content.startswith(m) for m in magics):
        raise InvalidData.one("file", f"เนื้อหาไฟล์ไม่ตรงกับชนิด .{ext}")
    hold_for_writing(session, task, worker.stands_for)  # a claim made meanwhile wins
    row = Attachment(id=str(uuid.uuid4()), instance_id=task.instance_id, task_id=task.id,
                     task_name=task.name, filename=name, content_type=content_type, size=len(content),
                     sha256=hashlib.sha256(content).hexdigest(), content=content,
                     uploaded_by=worker.actor.username)
    session.add(row)
    session.add(Event(instance_id=task.instance_id, actor=worker.actor.username, kind="attachment_added",
                      task_id=task.id, task_spec=task.task_spec, task_name=task.name, lane=task.lane,
                      data={"filename": name, "size": len(content), "sha256": row.sha256}))
    session.flush()
    return row


def remove(session: Session, worker: Worker, attachment_id: str) -> Attachment:
    """Remove a document its uploader added to a task that is still open (a wrong file, a draft
    letter), recorded on the timeline with its name and size. Refusals, first that applies: 404
    (no such attachment, or one the person may not see), 403 (added by someone else), 409 (the task
    is done, or someone else holds it): the file is kept as the record of that step."""
    row = session.get(Attachment, attachment_id)
    instance = session.get(Instance, row.instance_id) if row is not None else None
    if row is None or instance is None or not may_see(session, worker.actor, instance) \
            or row.task_id in hidden_rounds(session, worker.actor, instance.id):
        raise NotFound("ไม่พบเอกสารแนบ")
    if row.uploaded_by != worker.actor.username:
        raise Forbidden(f"ลบเอกสาร {row.filename} ได้เฉพาะผู้ที่แนบ ({row.uploaded_by})")
    task = session.get(HumanTask, row.task_id) if row.task_id else None
    if task is None or task.status != "ready":
        raise Conflict(f"ขั้นตอนที่แนบ {row.filename} ดำเนินการไปแล้ว เอกสารนี้เป็นหลักฐานของขั้นตอนนั้น ลบไม่ได้",
                       {"attachment": row.id})
    check_holder(session, task, worker.stands_for)
    hold_for_writing(session, task, worker.stands_for)  # a completion or claim made meanwhile wins
    session.add(Event(instance_id=row.instance_id, actor=worker.actor.username, kind="attachment_removed",
                      task_id=task.id, task_spec=task.task_spec, task_name=task.name, lane=task.lane,
                      data={"filename": row.filename, "size": row.size, "sha256": row.sha256}))
    session.delete(row)
    session.flush()
    return row


def summary(row: Attachment) -> dict[str, Any]:
    return {"id": row.id, "instance": row.instance_id, "task": row.task_id, "task_name": row.task_name,
            "filename": row.filename, "content_type": row.content_type, "size": row.size,
            "uploaded_by": row.uploaded_by, "uploaded_at": row.uploaded_at}


def for_instance(session: Session, instance_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(Attachment).where(Attachment.instance_id == instance_id)
                           .order_by(Attachment.uploaded_at, Attachment.id)).all()
    return [summary(r) for r in rows]


def for_task(session: Session, task_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(Attachment).where(Attachment.task_id == task_id)
                           .order_by(Attachment.uploaded_at, Attachment.id)).all()
    return [summary(r) for r in rows]


def fetch(session: Session, actor: Actor, attachment_id: str) -> tuple[dict[str, Any], bytes]:
    """An attachment's description and bytes, for those who may see its instance."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound("ไม่พบเอกสารแนบ")
    instance = session.get(Instance, row.instance_id)
    assert instance is not None
    if not may_see(session, actor, instance) or row.task_id in hidden_rounds(session, actor, instance.id):
        raise Forbidden("คุณไม่มีสิทธิ์ดูเอกสารนี้")
    return summary(row), row.content
