"""POSTed strings -> JSON data, and back: the conversion the task pages rely on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import ROOT
from web import forms_render
from web.forms_render import build_fields, flatten, parse

ANALYSE = json.loads((ROOT / "forms/budget-transfer/analyse_spending.json").read_text(encoding="utf-8"))
STUDY = json.loads((ROOT / "forms/budget-transfer/study_spending.json").read_text(encoding="utf-8"))
SCHEMA = {
    "type": "object",
    "properties": {
        "n": {"type": "integer", "title": "n"}, "x": {"type": "number"}, "ok": {"type": "boolean"},
        "on": {"type": "string", "format": "date"}, "goals": {"type": "array", "items": {"type": "string"}},
        "amount": {"type": "number"},
    },
    "ui": {"amount": {"widget": "money"}},
}


@pytest.mark.parametrize(("kind", "text", "value"), [
    ("money", "1,234.50", 1234.5), ("money", " 1 500 บาท", 1500.0), ("number", "-2.5", -2.5),
    ("integer", "2,570", 2570), ("boolean", "true", True), ("boolean", "false", False),
    ("date", "25/11/2569", "2026-11-25"), ("date", "1.2.2570", "2027-02-01"), ("date", "2026-11-25", "2026-11-25"),
    ("date", "2569-11-25", "2026-11-25"), ("text", "  x  ", "x"), ("textarea", "a\r\nb", "a\nb"),
])
def test_convert(kind: str, text: str, value: object) -> None:
    assert forms_render.convert(kind, text) == value


@pytest.mark.parametrize(("kind", "text"), [
    ("money", "abc"), ("money", "1.234"), ("integer", "2.5"), ("date", "31/02/2569"), ("date", "25/11/2026"),
    ("date", "tomorrow"), ("boolean", "maybe"), ("number", "NaN"),
])
def test_convert_refuses_with_a_thai_message(kind: str, text: str) -> None:
    with pytest.raises(ValueError, match="[ก-๙]"):
        forms_render.convert(kind, text)


def test_parse_converts_leaves_out_empty_fields_and_drops_empty_rows() -> None:
    form = {"n": "7", "x": "", "ok": "false", "on": "25/11/2569", "amount": "10,000.25", "goals.0": "ก",
            "goals.3": "ข", "goals.5": " ", "csrf_token": "t"}
    data, errors, values = parse(SCHEMA, form)
    assert errors == []
    assert data == {"n": 7, "ok": False, "on": "2026-11-25", "amount": 10000.25, "goals": ["ก", "ข"]}
    assert values["goals.1"] == "ข" and "csrf_token" not in values


def test_parse_line_items_and_errors_keep_what_was_typed() -> None:
    form = {"lines.0.line_id": "L1", "lines.0.allocated": "150,000", "lines.0.spent": "หนึ่ง",
            "lines.2.line_id": "L2", "lines.2.leftover": "10,000.50", "analysis_findings": "ok"}
    data, errors, values = parse(ANALYSE, form)
    # The leftover is the server's figure (x-computed): what the page shows in it is never sent on.
    assert data["lines"] == [{"line_id": "L1", "allocated": 150000.0}, {"line_id": "L2"}]
    assert [(e.field, e.message) for e in errors] == [("lines.0.spent", "กรุณากรอกเป็นตัวเลข")]
    fields = {f.name: f for f in build_fields(ANALYSE, values, {e.field: e.message for e in errors})}
    table = fields["lines"]
    assert len(table.rows) == 2
    cells = {c.name: c for c in table.rows[0]}
    assert cells["lines.0.spent"].value == "หนึ่ง" and cells["lines.0.spent"].error == "กรุณากรอกเป็นตัวเลข"
    assert {c.name: c for c in table.rows[1]}["lines.1.leftover"].value == "10,000.50"


def test_flatten_shows_buddhist_era_dates_and_baht() -> None:
    data = {"spending_sources": [{"source": "school", "source_name": "ร.ร.", "doc_date": "2026-09-15"}],
            "total_allocated": 1500000, "as_of": "2026-09-30"}
    values = flatten(STUDY, data)
    assert values == {"spending_sources.0.source": "school", "spending_sources.0.source_name": "ร.ร.",
                      "spending_sources.0.doc_date": "15/09/2569", "total_allocated": "1,500,000.00",
                      "as_of": "30/09/2569"}
    again, errors, _ = parse(STUDY, values)
    assert errors == [] and again == data | {"total_allocated": 1500000.0}


def test_fields_follow_the_forms_order_and_kinds() -> None:
    fields = build_fields(STUDY, {})
    assert [f.name for f in fields] == STUDY["ui"]["order"]
    kinds = {f.name: f.kind for f in fields}
    assert kinds == {"spending_sources": "table", "total_allocated": "money", "total_disbursed": "money",
                     "total_remaining": "money", "as_of": "date", "spending_summary": "textarea"}
    assert {f.name: f.computed for f in fields}["total_remaining"] == "total_allocated - total_disbursed"
    table = fields[0]
    assert [c.kind for c in table.columns] == ["select", "text", "text", "date"]
    assert len(table.rows) == 1  # one empty row to start with


def test_an_object_value_in_read_only_data_is_shown_as_its_fields(web: Any) -> None:
    """A mapping (a school round's `current_school`) passes Jinja's `sequence` test: it was drawn as a
    list of its keys ("code name"), losing the values."""
    with web.app.test_request_context():
        macro = web.app.jinja_env.get_template("tasks/_data.html").module.value
        shown = str(macro(None, {"code": "1063010001", "name": "โรงเรียนบ้านหนองบัว"}))
    assert "1063010001" in shown and "โรงเรียนบ้านหนองบัว" in shown


@pytest.mark.parametrize(("size", "shown"), [(45, "45 ไบต์"), (1023, "1023 ไบต์"), (12_800, "12 KB"),
                                             (1_468_006, "1.4 MB")])
def test_file_sizes_read_as_a_person_reads_them(web: Any, size: int, shown: str) -> None:
    """A 45-byte file was listed as "0 KB"."""
    from web.i18n import file_size

    with web.app.test_request_context():
        assert file_size(size) == shown
