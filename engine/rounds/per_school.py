"""Per-school rounds: a multi-instance step over rows {"code", "name"} of lane `school` gives each listed
school its own round, named after it; a row naming no registered school (or one listed twice) is refused
as the data of the step that listed them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .. import schools
from ..accounts import SCHOOL_LANE
from ..errors import FieldError, InvalidData
from ..models import School


def round_name(name: str, task: Any, input_item: str | None, school_name: str | None = None) -> str:
    """A multi-instance round is named after its item: "สถานศึกษารายงานข้อมูล — โรงเรียนบ้านตาก"
    (a school's round by the school's registered name)."""
    item = task.data.get(input_item) if input_item else None
    label = school_name or (item.get("name") if isinstance(item, dict) else item if isinstance(item, str) else None)
    return f"{name} — {label}" if label else name


def schools_of_rounds(session: Session, rounds: list[tuple[Any, dict[str, Any]]]) -> dict[int, School]:
    """The school of each new per-school round (a multi-instance round of lane `school` over rows
    {"code", "name"}), by id() of its spiff task. A row whose code is no known school is refused as
    the data of the step that listed the schools, naming the row, so nothing is stored and no round
    goes to nobody (or to every school)."""
    items: dict[int, tuple[str, str]] = {}  # id(task) -> (code, field path of the row's code)
    errors: list[FieldError] = []
    for task, meta in rounds:
        input_item = meta.get("input_item")
        if meta.get("lane") != SCHOOL_LANE or not input_item:
            continue
        item = task.data.get(input_item)
        path = _row_path(task)
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not code.strip():
            errors.append(FieldError(path, f"{_row_label(task)}: ต้องระบุรหัสสถานศึกษา"))
            continue
        items[id(task)] = (code.strip(), f"{path}.code" if path else "code")
    found = schools.known(session, [code for code, _ in items.values()])
    listed: dict[tuple[str, str], str] = {}  # (step, code) -> the row that listed it first
    for task, _meta in rounds:
        code, path = items.get(id(task), ("", ""))
        if code and code not in found:
            errors.append(FieldError(path, f"{_row_label(task)}: ไม่พบสถานศึกษารหัส {code[:40]} ในทะเบียนสถานศึกษา"
                                           " (ผู้ดูแลระบบเพิ่มได้ด้วย khanton school add)"))
        elif code:
            first = listed.setdefault((task.task_spec.name, code), _row_label(task))
            if first != _row_label(task):
                errors.append(FieldError(path, f"{_row_label(task)}: สถานศึกษารหัส {code} ซ้ำกับ{first}"))
    if errors:
        raise InvalidData(errors)
    return {key: found[code] for key, (code, _) in items.items()}


def _row_path(task: Any) -> str:
    """Where a multi-instance round's item came from: "schools.1" (the collection, the row's index)."""
    data_input = getattr(getattr(task.parent, "task_spec", None), "data_input", None)
    collection = getattr(data_input, "bpmn_id", None) or getattr(data_input, "name", None)
    index = task.internal_data.get("key_or_index")
    if collection and isinstance(index, int):
        return f"{collection}.{index}"
    return str(collection or "")


def _row_label(task: Any) -> str:
    index = task.internal_data.get("key_or_index")
    return f"สถานศึกษาแถวที่ {index + 1}" if isinstance(index, int) else "สถานศึกษา"
