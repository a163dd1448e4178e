"""JSON Schema forms on the server: schema -> fields to render, and POSTed strings -> JSON data.

Field names in the HTML form are the dotted paths the engine reports errors on: `fiscal_year`,
`lines.0.amount`, `goals.2`. Conversion (`parse`) is separate from rendering (`build_fields`), so
it can be tested alone: money "1,234.50" -> 1234.5, Buddhist-era dates "25/11/2569" ->
"2026-11-25", yes/no -> true/false; empty fields are left out so that `required` speaks.
A refused form is rendered again from the strings as typed (`values`), never from converted data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.errors import FieldError
from engine.thai_calendar import BE_OFFSET

MAX_ROWS = 500
_DATE_BE = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_INDEX = re.compile(r"^(\d{1,4})(?:\.|$)")


@dataclass
class Field:
    """One input (or a table of them) as the template draws it."""

    name: str                 # dotted path and HTML name: "lines.0.amount"
    key: str                  # the property name: "amount"
    label: str
    kind: str                 # text textarea integer number money date select radio boolean table
    required: bool = False
    description: str = ""
    value: str = ""
    error: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    max_length: int | None = None
    columns: list[Field] = field(default_factory=list)   # a table's column headers
    rows: list[list[Field]] = field(default_factory=list)
    scalar_items: bool = False  # a table of plain values (array of strings), one column
    computed: str = ""  # x-computed: the server counts it; shown read-only, recomputed live (computed.js)

    @property
    def html_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def _ui(schema: Mapping[str, Any]) -> dict[str, Any]:
    ui = schema.get("ui")
    return ui if isinstance(ui, dict) else {}


def _type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return str(kind)


def kind_of(schema: Mapping[str, Any], hint: Mapping[str, Any], in_table: bool = False) -> str:
    """How one property is drawn."""
    kind = _type(schema)
    widget = hint.get("widget") if isinstance(hint, Mapping) else None
    if "enum" in schema:
        return "select" if in_table or len(schema["enum"]) > 4 else "radio"
    if kind == "array":
        return "table"
    if kind == "boolean":
        return "boolean"
    if kind == "integer":
        return "integer"
    if kind == "number":
        return "money" if widget == "money" else "number"
    if schema.get("format") == "date":
        return "date"
    if widget == "textarea":
        return "textarea"
    return "text"


def ordered_properties(schema: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    props: dict[str, Any] = schema.get("properties", {}) or {}
    order = [k for k in _ui(schema).get("order", []) if k in props]
    order += [k for k in props if k not in order]
    return [(k, props[k]) for k in order if isinstance(props[k], dict)]


# --- display strings ------------------------------------------------------------------------------

def format_money(value: Any) -> str:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{amount:,.2f}"


def format_date_input(value: Any) -> str:
    """ISO date -> the d/m/yyyy Buddhist-era string the date field shows."""
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day:02d}/{day.month:02d}/{day.year + BE_OFFSET}"


def display_value(schema: Mapping[str, Any], hint: Mapping[str, Any], value: Any) -> str:
    """A stored JSON value as the input shows it."""
    if value is None:
        return ""
    kind = kind_of(schema, hint)
    if kind == "money":
        return format_money(value)
    if kind == "date":
        return format_date_input(value)
    if kind == "boolean":
        return "true" if value is True else "false" if value is False else ""
    return str(value)


def flatten(schema: Mapping[str, Any], data: Mapping[str, Any] | None) -> dict[str, str]:
    """Stored data -> the flat {path: string} the form is drawn from."""
    values: dict[str, str] = {}
    data = data or {}
    ui = _ui(schema)
    for key, sub in ordered_properties(schema):
        if key not in data:
            continue
        hint = ui.get(key, {}) if isinstance(ui.get(key), dict) else {}
        if _type(sub) == "array" and isinstance(data[key], list):
            items = sub.get("items", {}) if isinstance(sub.get("items"), dict) else {}
            item_hints = hint.get("items", {}) if isinstance(hint.get("items"), dict) else {}
            for i, row in enumerate(data[key]):
                if _type(items) == "object" and isinstance(row, dict):
                    for col, col_schema in ordered_properties(items):
                        if col in row:
                            col_hint = item_hints.get(col, {}) if isinstance(item_hints.get(col), dict) else {}
                            values[f"{key}.{i}.{col}"] = display_value(col_schema, col_hint, row[col])
                else:
                    values[f"{key}.{i}"] = display_value(items, item_hints, row)
        else:
            values[key] = display_value(sub, hint, data[key])
    return values


# --- building fields ------------------------------------------------------------------------------

def _options(schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    titles = schema.get("x-enum-titles") or []
    return [(str(v), str(titles[i]) if i < len(titles) else str(v)) for i, v in enumerate(schema.get("enum", []))]


def _leaf(name: str, key: str, schema: Mapping[str, Any], hint: Mapping[str, Any], required: bool,
          values: Mapping[str, str], errors: Mapping[str, str], in_table: bool = False) -> Field:
    return Field(name=name, key=key, label=str(schema.get("title") or key),
                 kind=kind_of(schema, hint, in_table), required=required,
                 description=str(schema.get("description") or ""), value=values.get(name, ""),
                 error=errors.get(name, ""), options=_options(schema) if "enum" in schema else [],
                 max_length=schema.get("maxLength") if isinstance(schema.get("maxLength"), int) else None,
                 computed=str(schema.get("x-computed") or ""))


def row_indices(values: Mapping[str, str], name: str) -> list[int]:
    """Row numbers present in the flat values for the array field `name`, sorted."""
    prefix = name + "."
    found: set[int] = set()
    for path in values:
        if path.startswith(prefix):
            match = _INDEX.match(path[len(prefix):])
            if match and int(match.group(1)) < MAX_ROWS:
                found.add(int(match.group(1)))
    return sorted(found)


def _table(name: str, key: str, schema: Mapping[str, Any], hint: Mapping[str, Any], required: bool,
           values: Mapping[str, str], errors: Mapping[str, str], extra_rows: int) -> Field:
    items = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
    item_hints = hint.get("items", {}) if isinstance(hint.get("items"), dict) else {}
    table = _leaf(name, key, schema, hint, required, values, errors)
    table.kind = "table"
    table.label = str(schema.get("title") or key)
    if _type(items) == "object":
        required_cols = set(items.get("required", []))
        cols = [(col, sub, item_hints.get(col, {}) if isinstance(item_hints.get(col), dict) else {})
                for col, sub in ordered_properties(items)]
    else:
        table.scalar_items = True
        required_cols = {""}
        cols = [("", items, item_hints)]
    count = len(row_indices(values, name))
    if count == 0:
        count = max(1, int(schema.get("minItems", 1) or 1))
    count = min(count + extra_rows, MAX_ROWS)

    def cell(i: int | str, col: str, sub: Mapping[str, Any], col_hint: Mapping[str, Any]) -> Field:
        path = f"{name}.{i}.{col}" if col else f"{name}.{i}"
        label = str(sub.get("title") or col or table.label)
        made = _leaf(path, col, sub, col_hint, col in required_cols, values, errors, in_table=True)
        made.label = label
        return made

    table.columns = [cell("__INDEX__", col, sub, col_hint) for col, sub, col_hint in cols]
    table.rows = [[cell(i, col, sub, col_hint) for col, sub, col_hint in cols] for i in range(count)]
    # An error on a row as a whole ("lines.1") is shown on its first cell.
    for i, row in enumerate(table.rows):
        whole = errors.get(f"{name}.{i}")
        if whole and row and not row[0].error:
            row[0].error = whole
    return table


def build_fields(schema: Mapping[str, Any], values: Mapping[str, str], errors: Mapping[str, str] | None = None,
                 extra_rows: Mapping[str, int] | None = None) -> list[Field]:
    """The fields of a form, in the form's order, with values and error messages."""
    errors = errors or {}
    extra_rows = extra_rows or {}
    ui = _ui(schema)
    required = set(schema.get("required", []))
    result = []
    for key, sub in ordered_properties(schema):
        hint = ui.get(key, {}) if isinstance(ui.get(key), dict) else {}
        if _type(sub) == "array":
            result.append(_table(key, key, sub, hint, key in required, values, errors, extra_rows.get(key, 0)))
        else:
            result.append(_leaf(key, key, sub, hint, key in required, values, errors))
    return result


def _each(fields: list[Field]) -> list[Field]:
    """Every field in the form's order, a table's cells row by row after the table itself."""
    result: list[Field] = []
    for f in fields:
        result.append(f)
        for row in f.rows:
            result.extend(row)
    return result


def tidy_errors(fields: list[Field]) -> None:
    """The engine's messages begin with the field's title ("X: ต้องไม่น้อยกว่า 0"), for clients that show
    them alone; beside a field labelled X, or after X in a summary, that says X twice."""
    for f in _each(fields):
        if f.error.startswith(f"{f.label}: "):
            f.error = f.error[len(f.label) + 2:]


def errors_in_order(fields: list[Field], errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """(path, message) of every refusal in the form's order (tidied as shown beside each field); those
    about no field of the form (the data as a whole) last."""
    shown = {f.name: f.error for f in _each(fields) if f.error}
    ordered = [(f.name, shown[f.name]) for f in _each(fields) if f.name in shown and f.name in errors]
    rows = [(path, message) for path, message in errors.items() if path not in shown]
    return ordered + rows


def compact(values: Mapping[str, str], schema: Mapping[str, Any], drop: str | None = None) -> dict[str, str]:
    """Renumber table rows 0, 1, 2… leaving out entirely empty rows (and the row `drop`, "lines.2")."""
    result: dict[str, str] = {}
    arrays = {key for key, sub in ordered_properties(schema) if _type(sub) == "array"}
    for path, value in values.items():
        head = path.split(".", 1)[0]
        if head not in arrays and head in dict(ordered_properties(schema)):
            result[path] = value
    for key in arrays:
        new_index = 0
        for i in row_indices(values, key):
            prefix = f"{key}.{i}"
            cells = {p: v for p, v in values.items() if p == prefix or p.startswith(prefix + ".")}
            if drop == prefix or not any(v.strip() for v in cells.values()):
                continue
            for path, value in cells.items():
                result[f"{key}.{new_index}{path[len(prefix):]}"] = value
            new_index += 1
    return result


# --- converting POSTed strings --------------------------------------------------------------------

class _Bad(ValueError):
    pass


def parse_date(text: str) -> str:
    """"25/11/2569" (Buddhist era; "/", "." or "-") or ISO "2026-11-25" -> "2026-11-25"."""
    text = text.strip()
    match = _DATE_BE.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        iso = _DATE_ISO.match(text)
        if not iso:
            raise _Bad("กรุณากรอกวันที่เป็น วว/ดด/ปปปป (พ.ศ.) เช่น 25/11/2569")
        year, month, day = (int(g) for g in iso.groups())
        if year > 2400:  # an ISO-shaped date typed in the Buddhist era
            year -= BE_OFFSET
        return _checked_date(year, month, day)
    if year < 2400:
        raise _Bad("กรุณากรอกปีเป็นพุทธศักราช (พ.ศ.) เช่น 2569")
    return _checked_date(year - BE_OFFSET, month, day)


def _checked_date(year: int, month: int, day: int) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise _Bad("ไม่มีวันที่นี้ในปฏิทิน") from None


def _decimal(text: str) -> Decimal:
    cleaned = text.replace(",", "").replace("บาท", "").replace("฿", "").replace(" ", "").strip()
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise _Bad("กรุณากรอกเป็นตัวเลข") from None
    if not number.is_finite():
        raise _Bad("กรุณากรอกเป็นตัวเลข")
    return number


def convert(kind: str, text: str) -> Any:
    """One field's string -> its JSON value; _Bad with a Thai message when it cannot be."""
    if kind in ("money", "number"):
        number = _decimal(text)
        if kind == "money" and number.as_tuple().exponent < -2:  # type: ignore[operator]
            raise _Bad("จำนวนเงินมีทศนิยมได้ไม่เกินสองตำแหน่ง (สตางค์)")
        return float(number)
    if kind == "integer":
        number = _decimal(text)
        if number != number.to_integral_value():
            raise _Bad("กรุณากรอกเป็นจำนวนเต็ม")
        return int(number)
    if kind == "boolean":
        if text in ("true", "false"):
            return text == "true"
        raise _Bad("กรุณาเลือก ใช่ หรือ ไม่ใช่")
    if kind == "date":
        return parse_date(text)
    if kind == "textarea":
        return text.replace("\r\n", "\n").strip()
    return text.strip()


def _convert_leaf(f: Field, errors: list[FieldError]) -> tuple[bool, Any]:
    if not f.value.strip() or f.computed:  # a computed figure is the server's to fill in, not the page's
        return False, None
    try:
        return True, convert(f.kind, f.value)
    except _Bad as err:
        errors.append(FieldError(f.name, str(err)))
        return False, None


def parse(schema: Mapping[str, Any], form: Mapping[str, str]
          ) -> tuple[dict[str, Any], list[FieldError], dict[str, str]]:
    """POSTed strings -> (data, conversion errors, the compacted strings to draw a refused form from)."""
    values = compact({k: v for k, v in form.items() if isinstance(v, str)}, schema)
    data: dict[str, Any] = {}
    errors: list[FieldError] = []
    for f in build_fields(schema, values):
        if f.kind != "table":
            present, value = _convert_leaf(f, errors)
            if present:
                data[f.key] = value
            continue
        rows: list[Any] = []
        for i in row_indices(values, f.name):
            cells = f.rows[i] if i < len(f.rows) else []
            if f.scalar_items:
                present, value = _convert_leaf(cells[0], errors) if cells else (False, None)
                if present:
                    rows.append(value)
                continue
            row: dict[str, Any] = {}
            for cell in cells:
                present, value = _convert_leaf(cell, errors)
                if present:
                    row[cell.key] = value
            rows.append(row)
        if rows or f.required:
            data[f.key] = rows
    return data, errors, values
