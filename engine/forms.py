"""Task forms: JSON Schemas, server-side validation with messages in Thai, and named extra checks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, ValidationError

from . import storable
from .errors import FieldError, InvalidData
from .form_checks import CHECKS
from .form_rules import computed, signed
from .rounds import decision

FORM_PATH = re.compile(r"^[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*\.json$")
# Used with fullmatch: `$` would also match before a trailing newline ("ok\n").
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
MAX_DATA_BYTES = 1024 * 1024


def _multiple_of(validator: Any, step: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """multipleOf in decimal arithmetic: with floats, 1234.57 is "not a multiple of 0.01"."""
    if not validator.is_type(instance, "number"):
        return
    try:
        fits = Decimal(str(instance)) % Decimal(str(step)) == 0
    except (InvalidOperation, ArithmeticError):
        fits = False
    if not fits:
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


FormValidator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"multipleOf": _multiple_of})


def load_form(forms_dir: Path, relative: str, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read one form file; ValueError with a Thai message when it is missing or not a valid schema.
    A form in `given` (path -> schema: the editor's, not yet a file) stands in for the file."""
    if not FORM_PATH.match(relative):
        raise ValueError(f"ชื่อไฟล์แบบฟอร์ม {relative!r} ไม่ถูกรูปแบบ (ต้องเป็น <key>/<ชื่อ>.json)")
    if given is not None and relative in given:
        check_schema(given[relative], relative)
        return dict(given[relative])
    path = forms_dir / relative
    if not path.is_file():
        raise ValueError(f"ไม่พบไฟล์แบบฟอร์ม forms/{relative}")
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"แบบฟอร์ม forms/{relative} ไม่ใช่ JSON ที่ถูกต้อง: {err}") from None
    check_schema(schema, relative)
    return dict(schema)


def check_schema(schema: Any, relative: str) -> None:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise ValueError(f"แบบฟอร์ม forms/{relative} ต้องเป็น JSON Schema ชนิด object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        raise ValueError(f"แบบฟอร์ม forms/{relative} ไม่ใช่ JSON Schema ที่ถูกต้อง: {err.message}") from None
    for name in schema.get("x-khanton-checks", []):
        if name not in CHECKS:
            raise ValueError(f"แบบฟอร์ม forms/{relative} อ้างถึงการตรวจสอบ {name!r} ที่ไม่มีอยู่")
    problems = computed.check_form(schema) + signed.check_form(schema)
    if problems:
        raise ValueError(f"แบบฟอร์ม forms/{relative}: " + "; ".join(problems))


def _field_path(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    kind: Any = error.validator
    schema: Any = error.schema
    if kind == "required" and isinstance(error.instance, dict):
        required: Any = error.validator_value
        # jsonschema reports one error per missing property, naming it only in the message.
        named = re.match(r"^'([A-Za-z0-9_]+)' is a required property$", error.message)
        missing = [r for r in required if r not in error.instance]
        parts.append(named.group(1) if named else missing[0] if missing else "")
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        parts.append(extra[0] if extra else "")
    return ".".join(p for p in parts if p != "")


def _thai_message(error: ValidationError) -> str:
    title = error.schema.get("title") if isinstance(error.schema, dict) else None
    v: Any = error.validator
    value: Any = error.validator_value
    messages: dict[str, str] = {
        "required": "กรุณากรอกข้อมูลนี้",
        "type": f"ชนิดข้อมูลไม่ถูกต้อง (ต้องเป็น {value})",
        "enum": "กรุณาเลือกจากตัวเลือกที่กำหนด",
        "minimum": f"ต้องไม่น้อยกว่า {value}",
        "exclusiveMinimum": f"ต้องมากกว่า {value}",
        "maximum": f"ต้องไม่เกิน {value}",
        "exclusiveMaximum": f"ต้องน้อยกว่า {value}",
        "multipleOf": "ทศนิยมได้ไม่เกินสองตำแหน่ง" if value == 0.01 else f"ต้องเป็นพหุคูณของ {value}",
        "minLength": f"ต้องยาวอย่างน้อย {value} ตัวอักษร" if value != 1 else "กรุณากรอกข้อมูลนี้",
        "maxLength": f"ยาวได้ไม่เกิน {value} ตัวอักษร",
        "minItems": f"ต้องมีอย่างน้อย {value} รายการ",
        "maxItems": f"มีได้ไม่เกิน {value} รายการ",
        "pattern": "รูปแบบไม่ถูกต้อง",
        "format": "รูปแบบวันที่ไม่ถูกต้อง" if value == "date" else f"รูปแบบไม่ถูกต้อง ({value})",
        "additionalProperties": "มีช่องข้อมูลที่แบบฟอร์มไม่รู้จัก",
        "const": "ค่าไม่ถูกต้อง",
    }
    message = messages.get(str(v), f"ข้อมูลไม่ถูกต้อง ({v})")
    return f"{title}: {message}" if title and v != "required" else message


def _within(path: str, fields: set[str]) -> bool:
    """Whether `path` is one of `fields` or lies inside one ("lines.0.amount" inside "lines.0");
    by its prefixes, so that thousands of refused cells cost thousands of look-ups, not millions."""
    parts = path.split(".")
    return any(".".join(parts[:i]) in fields for i in range(1, len(parts) + 1))


def form_validator(schema: Mapping[str, Any]) -> Any:
    """The form's JSON Schema validator (it only reads its schema: one may serve every check of a form)."""
    return FormValidator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_data(schema: dict[str, Any], data: Any, context: dict[str, Any] | None = None,
                  unconverted: Sequence[FieldError] = (), validator: Any = None) -> dict[str, Any]:
    """Check submitted data against its form; raise InvalidData listing every bad field.

    `unconverted` are fields a client could not turn into values (the pages' "หนึ่งล้าน" in a money
    field): they are refused together with what the rest of the data gets wrong, so a person sees
    every problem at once; the form's cross-field checks wait until every field has a value.
    Figures the form computes (`x-computed`) and leaves out are filled into `data` here.
    `validator`: form_validator(schema), made once per published form (CompiledVersion.once).
    """
    if not isinstance(data, dict):
        raise InvalidData([FieldError("", "ข้อมูลต้องเป็นออบเจ็กต์ JSON")])
    # What could not be stored and read back goes first, alone: the form's checks would only add noise
    # about the same fields, and the size below cannot be measured on all of it.
    unreadable = storable.problems(data)
    if unreadable:
        raise InvalidData([*unconverted, *unreadable])
    if len(json.dumps(data, ensure_ascii=False)) > MAX_DATA_BYTES:
        raise InvalidData([FieldError("", "ข้อมูลมีขนาดใหญ่เกินไป")])
    computed.fill(schema, data, context or {})
    errors = list(unconverted)
    errors += [FieldError(key, "ชื่อช่องข้อมูลต้องเป็นตัวอักษรอังกฤษ ตัวเลข หรือ _ และไม่ขึ้นต้นด้วย _")
               for key in data if not IDENTIFIER.fullmatch(str(key))]
    validator = validator if validator is not None else form_validator(schema)
    named = {e.field for e in unconverted}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = _field_path(error)
        if not _within(path, named):  # "required" for a field typed but unreadable says nothing new
            errors.append(FieldError(path, _thai_message(error)))
    # A return or a rejection says why (rounds/decision.py), with the form's other problems at once.
    errors += [e for e in decision.reason_problems(schema, data) if e.field not in {x.field for x in errors}]
    if not errors:
        for name in schema.get("x-khanton-checks", []):
            errors.extend(CHECKS[name](data, context or {}))
        errors.extend(computed.refusals(schema, data, context or {}))
    if errors:
        raise InvalidData(errors)
    return data
