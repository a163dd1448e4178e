"""One validation path (design.md): the engine alone validates start and task data, with the task's
context. Outside engine/, the application only converts what a browser sent; a test walks its imports
and calls to keep it so. Tests may call the engine's validator directly: they test the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from engine.errors import FieldError, InvalidData
from engine.forms import validate_data

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE_ENGINE = ("web", "scripts")
VALIDATORS = {"validate_data", "FormValidator", "CHECKS", "transfers_within_leftover", "allocations_within_ceiling"}
MODULES = ("jsonschema", "engine.forms", "engine.form_checks", "fastjsonschema")


def _offences(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        where = f"{path.parent.name}/{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where} imports {a.name}" for a in node.names if a.name.startswith(MODULES)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            outside = node.level == 0 and node.module.startswith(MODULES)  # relative: web's own modules
            if outside or any(a.name in VALIDATORS for a in node.names):
                found.append(f"{where} imports from {node.module}")
        elif isinstance(node, ast.Attribute) and node.attr in VALIDATORS:
            found.append(f"{where} uses .{node.attr}")
        elif isinstance(node, ast.Name) and node.id in VALIDATORS:
            found.append(f"{where} uses {node.id}")
    return found


def test_no_module_outside_the_engine_imports_or_calls_the_validator() -> None:
    offences = [o for folder in OUTSIDE_ENGINE for p in sorted((ROOT / folder).rglob("*.py")) for o in _offences(p)]
    assert offences == []


def test_the_walk_finds_a_page_that_validates_on_its_own(tmp_path: Path) -> None:
    """The check above would see the defect it guards against (web/ calling validate_data itself)."""
    bad = tmp_path / "task_page.py"
    bad.write_text("from engine.forms import validate_data\nfrom .. import forms\n\n"
                   "def f(s, d):\n    return validate_data(s, d) or forms.validate_data(s, d)\n", encoding="utf-8")
    assert len(_offences(bad)) == 3


SCHEMA = {"type": "object", "required": ["fiscal_year", "amount"],
          "properties": {"fiscal_year": {"type": "integer"}, "amount": {"type": "number"},
                         "title": {"type": "string", "maxLength": 5}},
          "x-khanton-checks": ["allocations_within_ceiling"]}


def test_unconverted_fields_are_refused_with_everything_else_the_data_gets_wrong() -> None:
    with pytest.raises(InvalidData) as refused:
        validate_data(SCHEMA, {"fiscal_year": 2570, "title": "ยาวเกินไป"},
                      unconverted=[FieldError("amount", "กรุณากรอกเป็นตัวเลข")])
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("amount", "กรุณากรอกเป็นตัวเลข"),  # not also "required": the person did type something there
        ("title", "ยาวได้ไม่เกิน 5 ตัวอักษร"),
    ]


def test_an_unconverted_field_alone_is_a_refusal() -> None:
    with pytest.raises(InvalidData) as refused:
        validate_data(SCHEMA, {"fiscal_year": 2570, "amount": 1.0}, unconverted=[FieldError("title", "อ่านไม่ได้")])
    assert [e.field for e in refused.value.errors] == ["title"]
