"""`x-signed-document`: a step that records an outside body's decision needs the signed letter or resolution.

`{"title": "หนังสือหรือมติที่ลงนามแล้ว", "accept": ["application/pdf", "image/jpeg", "image/png"]}` at the
top of a form: completing the task needs at least one attachment on that task whose content (its first
bytes, not its name) is one of those types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..attachments import TYPES
from ..errors import FieldError
from ..models import Attachment

KEY = "x-signed-document"
NAMES = {"application/pdf": "PDF", "image/jpeg": "JPG", "image/png": "PNG"}
# content type -> the leading bytes that prove it, from the attachments' own table; only the types whose
# first bytes tell them apart (Office files all begin as ZIP or OLE archives)
SIGNATURES: dict[str, tuple[bytes, ...]] = {kind: magics for kind, magics in TYPES.values() if kind in NAMES}
_SNIFF = 16


@dataclass(frozen=True)
class SignedDocument:
    title: str
    accept: tuple[str, ...]

    @property
    def kinds(self) -> str:
        return ", ".join(NAMES.get(t, t) for t in self.accept)


def of(schema: Mapping[str, Any]) -> SignedDocument | None:
    """The form's signed-document requirement, or None (a form checked by check_form)."""
    spec = schema.get(KEY)
    if not isinstance(spec, dict):
        return None
    accept = tuple(spec.get("accept") or ("application/pdf",))
    return SignedDocument(str(spec.get("title") or "เอกสารที่ลงนามแล้ว"), accept)


def check_form(schema: Mapping[str, Any]) -> list[str]:
    """What is wrong with a form's x-signed-document, in Thai (empty when sound or absent)."""
    if KEY not in schema:
        return []
    spec = schema[KEY]
    if not isinstance(spec, dict) or not isinstance(spec.get("title"), str) or not spec["title"].strip():
        return [f"{KEY} ต้องเป็นออบเจ็กต์ที่มี title (ชื่อเอกสาร) และ accept (ชนิดไฟล์ที่รับ)"]
    accept = spec.get("accept")
    if not isinstance(accept, list) or not accept or not all(isinstance(a, str) for a in accept):
        return [f"{KEY}.accept ต้องเป็นรายการชนิดไฟล์อย่างน้อยหนึ่งชนิด เช่น [\"application/pdf\"]"]
    unknown = [a for a in accept if a not in SIGNATURES]
    if unknown:
        return [f"{KEY}.accept มีชนิดไฟล์ที่ไม่รองรับ: {', '.join(unknown)} (ใช้ได้: {', '.join(sorted(SIGNATURES))})"]
    return []


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove, or None."""
    for content_type, magics in SIGNATURES.items():
        if any(head.startswith(m) for m in magics):
            return content_type
    return None


def refusals(session: Session, schema: Mapping[str, Any], task_id: str) -> list[FieldError]:
    """A refusal when the form asks for a signed document and the task has none of the accepted types."""
    required = of(schema)
    if required is None:
        return []
    heads = session.scalars(select(func.substr(Attachment.content, 1, _SNIFF))
                            .where(Attachment.task_id == task_id)).all()
    if any(sniff(bytes(head or b"")) in required.accept for head in heads):
        return []
    return [FieldError(KEY, f"กรุณาแนบ{required.title} (ไฟล์ {required.kinds} ที่สแกนจากฉบับลงนาม) "
                            "ในส่วน “เอกสารแนบ” ของขั้นตอนนี้ก่อนบันทึก")]
