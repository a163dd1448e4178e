"""An instance as a บันทึกข้อความ: who started it, every step done (who, when), every decision with
its document numbers and dates, where it stands, and the signature block — as the instance's
reader may read it (the same check as the instance page; a school's user: not other schools' rounds,
and no decision details)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import queries, school_scope
from ..accounts import Actor, names
from ..assignments import effective_actor
from ..models import Attachment, Event, HumanTask, ProcessVersion, utcnow
from ..rounds import decision
from ..thai_calendar import bangkok, thai_datetime
from .thai_text import iso_day, memo_date, memo_moment, thai_digits

OFFICE = "กลุ่มนโยบายและแผน สำนักงานเขตพื้นที่การศึกษาประถมศึกษาตาก เขต ๑"
ADDRESSEE = "ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษาประถมศึกษาตาก เขต ๑"
NUMBER_PREFIX = "ศธ ๐๔๑๗๓"  # the registry (งานสารบรรณ) writes the number after the slash
MAX_EVENTS = 1000
STATUS_WORDS = {"completed": "เสร็จสิ้น", "rejected": "ไม่ได้รับความเห็นชอบ จึงยุติลง", "terminated": "ถูกยุติ",
                "suspended": "ถูกระงับไว้ชั่วคราว", "error": "ขัดข้อง รอผู้ดูแลระบบแก้ไข"}
SKIPPED = {decision.FIELD, decision.REASON_FIELD}


@dataclass(frozen=True)
class Field:
    title: str
    value: str


@dataclass(frozen=True)
class StepDone:
    step: str
    by: str
    at: str


@dataclass(frozen=True)
class DecisionMade:
    step: str
    round: int  # 2 and more: the step was done again after a return for revision
    by: str
    at: str
    outcome: str
    fields: list[Field]  # document numbers, dates and the like, as the form names them
    note: str
    documents: list[str]  # the signed letters attached to that round

    @property
    def round_text(self) -> str:
        return thai_digits(str(self.round))


@dataclass(frozen=True)
class Memo:
    office: str
    number: str
    date: str
    subject: str
    to: str
    opening: str
    steps: list[StepDone]
    decisions: list[DecisionMade]
    standing: str
    closing: str
    signer_name: str
    signer_position: str
    reference: str  # where the record came from: the instance and when it was printed


def _name_and_position(display: str) -> tuple[str, str]:
    """"นายอนันต์ ติดตาม — ผู้กำกับติดตาม" -> the name and the position."""
    name, _, position = display.partition(" — ")
    return name.strip() or display, position.strip()


def _value(schema: dict[str, Any], value: Any) -> str:
    day = iso_day(value) if schema.get("format") == "date" else None
    if day is not None:
        return memo_date(day)
    return thai_digits(str(value))


def _fields(schema: dict[str, Any], data: dict[str, Any]) -> list[Field]:
    properties = schema.get("properties") or {}
    order = (schema.get("ui") or {}).get("order") or list(properties)
    found = []
    for key in order:
        sub = properties.get(key)
        value = data.get(key)
        if key in SKIPPED or not isinstance(sub, dict) or value in (None, "") or isinstance(value, (dict, list)):
            continue
        found.append(Field(str(sub.get("title") or key), _value(sub, value)))
    return found


def build(session: Session, actor: Actor, instance_id: str, now: datetime | None = None) -> Memo:
    working = effective_actor(session, actor)
    instance = queries.visible_instance(session, working, instance_id)  # 404, then 403: as the instance page
    version = session.get(ProcessVersion, instance.version_id)
    assert version is not None
    hidden = school_scope.hidden_rounds(session, working, instance.id)
    rows = session.execute(select(Event, HumanTask.form).outerjoin(HumanTask, HumanTask.id == Event.task_id)
                           .where(Event.instance_id == instance.id, Event.kind.in_(("started", "completed")))
                           .order_by(Event.at, Event.id).limit(MAX_EVENTS)).all()
    events = [(e, form) for e, form in rows if e.task_id not in hidden]
    documents: dict[str, list[str]] = {}
    for task_id, filename in session.execute(select(Attachment.task_id, Attachment.filename).where(
            Attachment.instance_id == instance.id).order_by(Attachment.uploaded_at, Attachment.id)):
        if task_id and task_id not in hidden:
            documents.setdefault(task_id, []).append(thai_digits(filename))
    ready = session.scalars(select(HumanTask.name).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.status == "ready", HumanTask.school.is_(None))
                            .order_by(HumanTask.created_at, HumanTask.id)).all()
    who = names(session, [instance.started_by, *(e.actor for e, _ in events)])
    steps, decisions = [], []
    rounds: dict[str, int] = {}
    for event, form in events:
        if event.kind != "completed":
            continue
        by = _name_and_position(who.get(event.actor, event.actor))[0]
        step = thai_digits(event.task_name or event.task_spec or "")
        steps.append(StepDone(step, by, thai_digits(thai_datetime(event.at).replace(":", "."))))
        data = event.data or {}
        made = decision.of(data)
        if made is None:
            continue
        rounds[event.task_spec or ""] = rounds.get(event.task_spec or "", 0) + 1
        schema = version.forms.get(form or "", {})
        detailed = not working.school_only
        note = data.get(decision.REASON_FIELD)
        decisions.append(DecisionMade(
            step=step, round=rounds[event.task_spec or ""], by=by, at=memo_moment(event.at),
            outcome=decision.title(schema, made.value), fields=_fields(schema, data) if detailed else [],
            note=thai_digits(note.strip()) if detailed and isinstance(note, str) else "",
            documents=documents.get(event.task_id or "", []) if detailed else []))
    starter = who.get(instance.started_by, instance.started_by)
    name, position = _name_and_position(starter)
    year = f" ปีงบประมาณ {instance.fiscal_year}" if instance.fiscal_year else ""
    year = "" if str(instance.fiscal_year) in instance.title else year  # the title often names it already
    if instance.ended_at is not None:
        standing = (f"การดำเนินการ{STATUS_WORDS.get(instance.status, instance.status)} "
                    f"เมื่อวันที่ {memo_moment(instance.ended_at)}")
    elif instance.status != "running":
        standing = f"ขณะนี้การดำเนินการ{STATUS_WORDS.get(instance.status, instance.status)}"
    elif ready:
        standing = "ขณะนี้อยู่ระหว่างขั้นตอน " + " และ ".join(thai_digits(r) for r in ready)
    else:
        standing = "ขณะนี้อยู่ระหว่างดำเนินการ"
    printed = now or utcnow()
    return Memo(
        office=OFFICE, number=f"{NUMBER_PREFIX}/", date=memo_date(bangkok(instance.ended_at or printed).date()),
        subject=thai_digits(f"รายงานผลการดำเนินการ เรื่อง {instance.title}"), to=ADDRESSEE,
        opening=thai_digits(f"ตามที่ {name} ได้เริ่มกระบวนงาน “{version.name}” เรื่อง {instance.title}{year}")
        + f" เมื่อวันที่ {memo_moment(instance.started_at)} นั้น",
        steps=steps, decisions=decisions, standing=standing, closing="จึงเรียนมาเพื่อโปรดทราบ",
        signer_name=name, signer_position=position,
        reference=f"พิมพ์จากระบบขั้นตอน (Khanton) เมื่อ {memo_moment(printed)} · รหัสกระบวนงาน {instance.id}")

