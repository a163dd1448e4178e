"""The decision convention, in one typed home.

A step whose form has a `decision` field records an outcome: approved, returned for revision, or
rejected; gateways after it read `decision` (definitions._check_decisions). Returning or rejecting
work needs a reason, written in the form's `note`, which the person who gets it back reads first.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from ..errors import FieldError

FIELD = "decision"
REASON_FIELD = "note"


class Decision(StrEnum):
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"


NEEDS_REASON = (Decision.RETURNED, Decision.REJECTED)
DEFAULT_TITLES = {Decision.APPROVED: "เห็นชอบ / อนุมัติ", Decision.RETURNED: "ส่งกลับแก้ไข",
                  Decision.REJECTED: "ไม่เห็นชอบ"}


def is_decision_form(schema: Mapping[str, Any]) -> bool:
    properties = schema.get("properties")
    return isinstance(properties, Mapping) and FIELD in properties


def of(data: Any) -> Decision | None:
    """The decision recorded in a step's data, or None (no decision, or not one of ours)."""
    value = data.get(FIELD) if isinstance(data, Mapping) else None
    try:
        return Decision(value) if isinstance(value, str) else None
    except ValueError:
        return None


def title(schema: Mapping[str, Any], decision: str) -> str:
    """The decision as the form names it ("ส่งกลับแก้ไข"), else our own name for it."""
    field = (schema.get("properties") or {}).get(FIELD) or {}
    values, titles = field.get("enum") or [], field.get("x-enum-titles") or []
    if decision in values and values.index(decision) < len(titles):
        return str(titles[values.index(decision)])
    known = of({FIELD: decision})
    return DEFAULT_TITLES[known] if known else decision


def reason_problems(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[FieldError]:
    """A return or a rejection without a reason: the person who gets the work back must read why."""
    decision = of(data)
    if not is_decision_form(schema) or decision not in NEEDS_REASON:
        return []
    reason = data.get(REASON_FIELD)
    if isinstance(reason, str) and reason.strip():
        return []
    return [FieldError(REASON_FIELD, f"เลือก “{title(schema, decision)}” ต้องระบุเหตุผล "
                                     "เพื่อให้ผู้รับงานคืนทราบว่าต้องแก้ไขอะไร")]


def prefill(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """What a new round's form starts from. A decision starts empty: the previous round's outcome,
    reference, date and note stay in its history, so a careless click cannot repeat them. Other steps
    start from what the instance holds (a returned draft is revised, not retyped)."""
    return {} if is_decision_form(schema) else dict(data)
