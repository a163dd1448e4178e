"""Drafts of procedures kept on the server: what an analyst saved in the editor (XML and edited forms).

A draft may hold problems (it is checked only when asked, and on publishing); it is bounded so that
hostile input is refused and changes nothing. Drafts are never changed once saved: saving again adds
a new one, so the list shows who saved what, when.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..definitions import KEY
from ..errors import FieldError, InvalidData, NotFound, TooLarge
from ..forms import FORM_PATH
from ..models import ProcessDraft
from ..xmlsafe import MAX_DEFINITION_BYTES, UnsafeXml, read_xml

MAX_FORMS_BYTES = 2 * 1024 * 1024
MAX_FORMS = 200
MAX_NOTE = 500
LIST_LIMIT = 50


@dataclass(frozen=True)
class DraftSummary:
    """One line of the editor's list of drafts: who saved it, when, and why."""

    id: int
    key: str
    author: str
    saved_at: datetime
    note: str


@dataclass(frozen=True)
class Draft:
    summary: DraftSummary
    xml: str
    forms: dict[str, Any]

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def key(self) -> str:
        return self.summary.key

    @property
    def author(self) -> str:
        return self.summary.author

    @property
    def saved_at(self) -> datetime:
        return self.summary.saved_at


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _summary(row: ProcessDraft) -> DraftSummary:
    return DraftSummary(row.id, row.key, row.author, _aware(row.saved_at), row.note)


def refusals(key: str, xml: Any, forms: Any, note: Any) -> list[FieldError]:
    """What makes a draft unstorable (not what makes it unpublishable: that is the check's)."""
    errors: list[FieldError] = []
    if not isinstance(key, str) or not KEY.match(key):
        errors.append(FieldError("key", "ชื่อกระบวนงานต้องเป็นตัวพิมพ์เล็ก ตัวเลข และ - เท่านั้น (ไม่เกิน 100 ตัวอักษร)"))
    if not isinstance(xml, str) or not xml.strip():
        errors.append(FieldError("xml", "ร่างต้องมีแผนภาพ BPMN (XML) ที่ไม่ว่าง"))
    elif "\x00" in xml:
        errors.append(FieldError("xml", "แผนภาพมีอักขระ NUL ซึ่ง XML ไม่อนุญาต"))
    elif len(xml.encode("utf-8", "surrogatepass")) > MAX_DEFINITION_BYTES:
        errors.append(FieldError("xml", f"แผนภาพต้องเป็นข้อความไม่เกิน {MAX_DEFINITION_BYTES // (1024 * 1024)} MB"))
    if not isinstance(forms, dict) or len(forms) > MAX_FORMS:
        errors.append(FieldError("forms", f"แบบฟอร์มต้องเป็นออบเจ็กต์ ชื่อไฟล์ -> JSON Schema (ไม่เกิน {MAX_FORMS} ฟอร์ม)"))
    else:
        for path, schema in forms.items():
            if not isinstance(path, str) or not FORM_PATH.match(path) or not isinstance(schema, dict):
                errors.append(FieldError("forms", f"แบบฟอร์ม {str(path)[:80]!r}: ชื่อต้องเป็น <key>/<ชื่อ>.json "
                                                  "และเนื้อหาต้องเป็นออบเจ็กต์ JSON"))
                break
        else:
            try:
                size = len(json.dumps(forms, ensure_ascii=False, allow_nan=False).encode("utf-8"))
            except (ValueError, TypeError, RecursionError):
                size = MAX_FORMS_BYTES + 1
            if size > MAX_FORMS_BYTES:
                errors.append(FieldError("forms", "แบบฟอร์มรวมกันต้องเป็น JSON ที่ถูกต้องและไม่เกิน 2 MB"))
    if not isinstance(note, str) or len(note) > MAX_NOTE or "\x00" in note:
        errors.append(FieldError("note", f"หมายเหตุต้องเป็นข้อความไม่เกิน {MAX_NOTE} ตัวอักษร"))
    return errors


def save_draft(session: Session, key: str, xml: str, forms: dict[str, Any], author: str, note: str = "") -> int:
    """Keep a draft of procedure `key` (it may hold problems); its id. InvalidData when unstorable."""
    errors = refusals(key, xml, forms, note)
    if errors:
        raise InvalidData(errors)
    row = ProcessDraft(key=key, author=author[:64], xml=xml, forms=forms, note=note.strip())
    session.add(row)
    session.flush()
    return row.id


def drafts(session: Session, key: str, limit: int = LIST_LIMIT) -> list[DraftSummary]:
    """The drafts of one procedure, newest first (without their XML)."""
    rows = session.execute(
        select(ProcessDraft.id, ProcessDraft.key, ProcessDraft.author, ProcessDraft.saved_at, ProcessDraft.note)
        .where(ProcessDraft.key == key).order_by(ProcessDraft.id.desc()).limit(limit))
    return [DraftSummary(r.id, r.key, r.author, _aware(r.saved_at), r.note) for r in rows]


def draft(session: Session, key: str, draft_id: int) -> Draft:
    row = session.get(ProcessDraft, draft_id)
    if row is None or row.key != key:
        raise NotFound(f"ไม่พบร่างหมายเลข {draft_id} ของกระบวนงาน {key}")
    return Draft(_summary(row), row.xml, dict(row.forms or {}))


def get_draft(session: Session, draft_id: int) -> Draft:
    """A draft by its number alone (an import's result page names no procedure)."""
    row = session.get(ProcessDraft, draft_id)
    if row is None:
        raise NotFound(f"ไม่พบร่างหมายเลข {draft_id}")
    return Draft(_summary(row), row.xml, dict(row.forms or {}))


@dataclass(frozen=True)
class Submitted:
    """A draft as a client sent it ({"xml", "forms", "note"}), checked to be storable."""

    xml: str
    forms: dict[str, Any]
    note: str


def submitted(key: str, body: dict[str, Any]) -> Submitted:
    """The parts of a JSON body; InvalidData (every bad part) when any is not storable, or when its XML
    cannot be read safely (a DOCTYPE, entities, malformed): what a client sends is never kept unread."""
    xml, forms, note = body.get("xml"), body.get("forms", {}), body.get("note", "")
    errors = refusals(key, xml, forms, note)
    if not errors and isinstance(xml, str):
        try:
            read_xml(xml)
        except UnsafeXml as err:
            where = f"บรรทัด {err.problem.line}: " if err.problem.line else ""
            errors.append(FieldError("xml", f"{where}{err.problem.message}"))
        except TooLarge as err:
            errors.append(FieldError("xml", err.message))
    if errors:
        raise InvalidData(errors)
    assert isinstance(xml, str) and isinstance(forms, dict) and isinstance(note, str)
    return Submitted(xml, forms, note)
