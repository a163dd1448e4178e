"""Restricted evaluation of BPMN conditions and scripts (they come from analysts' edits: untrusted).

Built on simpleeval: no Python `eval`/`exec`, an explicit allow-list of functions and methods, and
simpleeval's own limits on string length, powers and comprehension sizes keep each evaluation
bounded in time and memory. `check_expression` and `check_script` refuse, at publish time, whatever
would be refused at run time, so a bad definition never becomes a version.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Mapping, MutableMapping
from decimal import Decimal
from typing import Any

import simpleeval
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)

MAX_EXPRESSION_CHARS = 2_000
MAX_SCRIPT_LINES = 200

ALLOWED_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "sum": sum, "min": min, "max": max, "abs": abs, "round": round,
    "int": int, "float": float, "str": str, "bool": bool, "any": any, "all": all,
    "sorted": sorted, "Decimal": Decimal,
}
_STR_METHODS = {"lower", "upper", "strip", "startswith", "endswith", "split", "replace", "count", "join"}
_DICT_METHODS = {"get", "keys", "values", "items"}
_LIST_METHODS = {"count", "index"}
ALLOWED_METHODS = _STR_METHODS | _DICT_METHODS | _LIST_METHODS
_ALLOWED_ATTRS: dict[type, set[str]] = {str: _STR_METHODS, dict: _DICT_METHODS, list: _LIST_METHODS}

# Node types an expression may contain: what simpleeval evaluates, minus what we do not want.
_EXPRESSION_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Store, ast.UnaryOp, ast.BinOp, ast.BoolOp,
    ast.Compare, ast.IfExp, ast.Call, ast.keyword, ast.Subscript, ast.Attribute, ast.Slice,
    ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp,
    ast.GeneratorExp, ast.comprehension, ast.JoinedStr, ast.FormattedValue,
    ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.expr_context,
)
_FORBIDDEN_NAMES = (set(dir(builtins)) - set(ALLOWED_FUNCTIONS)) - {"True", "False", "None"}


class ExpressionRefused(ValueError):
    """An expression or script uses something outside the allow-list."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _severity(node: ast.AST) -> int:
    """Report what matters most first: a forbidden name (import, open) before an attribute."""
    return 0 if isinstance(node, ast.Name) else 1 if isinstance(node, ast.Call) else 2


def _check_tree(tree: ast.AST, line_offset: int = 0) -> None:
    for node in sorted(ast.walk(tree), key=_severity):
        line = getattr(node, "lineno", None)
        where = line + line_offset if line else None
        if not isinstance(node, _EXPRESSION_NODES):
            raise ExpressionRefused(f"ใช้ไวยากรณ์ที่ไม่อนุญาต ({type(node).__name__})", where)
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise ExpressionRefused(f"ชื่อที่ขึ้นต้นด้วย _ ไม่อนุญาต ({node.id})", where)
            if node.id in _FORBIDDEN_NAMES:
                raise ExpressionRefused(f"ใช้ฟังก์ชันหรือชื่อที่ไม่อนุญาต ({node.id})", where)
        if isinstance(node, ast.Attribute) and (
            node.attr.startswith("_") or node.attr not in ALLOWED_METHODS
        ):
            raise ExpressionRefused(f"เข้าถึงแอตทริบิวต์ที่ไม่อนุญาต (.{node.attr})", where)
        if isinstance(node, ast.Call) and not isinstance(node.func, (ast.Name, ast.Attribute)):
            raise ExpressionRefused("เรียกฟังก์ชันในรูปแบบที่ไม่อนุญาต", where)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id not in ALLOWED_FUNCTIONS:
                raise ExpressionRefused(f"ฟังก์ชัน {node.func.id} ไม่อยู่ในรายการที่อนุญาต", where)


def check_expression(source: str) -> None:
    """Raise ExpressionRefused if `source` is not a safe single expression."""
    if len(source) > MAX_EXPRESSION_CHARS:
        raise ExpressionRefused(f"นิพจน์ยาวเกิน {MAX_EXPRESSION_CHARS} ตัวอักษร")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionRefused(f"นิพจน์ผิดไวยากรณ์: {err.msg}", err.lineno) from None
    _check_tree(tree)


def _script_statements(source: str) -> list[ast.stmt]:
    lines = source.splitlines()
    if len(lines) > MAX_SCRIPT_LINES:
        raise ExpressionRefused(f"สคริปต์ยาวเกิน {MAX_SCRIPT_LINES} บรรทัด")
    try:
        module = ast.parse(source)
    except SyntaxError as err:
        raise ExpressionRefused(f"สคริปต์ผิดไวยากรณ์: {err.msg}", err.lineno) from None
    for stmt in module.body:
        single_name = (
            isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        ) or (isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name))
        if not single_name:
            raise ExpressionRefused(
                "สคริปต์ทำได้เพียงกำหนดค่า: บรรทัดละหนึ่งคำสั่ง ชื่อ = นิพจน์", stmt.lineno
            )
        assert isinstance(stmt, (ast.Assign, ast.AugAssign))
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
        assert isinstance(target, ast.Name)
        if target.id.startswith("_") or target.id in _FORBIDDEN_NAMES or target.id in ALLOWED_FUNCTIONS:
            raise ExpressionRefused(f"กำหนดค่าให้ชื่อ {target.id} ไม่ได้", stmt.lineno)
        value = stmt.value
        _check_tree(ast.Expression(body=value), 0)
    return module.body


def check_script(source: str) -> None:
    """Raise ExpressionRefused if `source` is not a safe assignment-only script."""
    _script_statements(source)


def _evaluator(names: Mapping[str, Any]) -> simpleeval.EvalWithCompoundTypes:
    evaluator = simpleeval.EvalWithCompoundTypes(
        functions=dict(ALLOWED_FUNCTIONS), names=dict(names), allowed_attrs=_ALLOWED_ATTRS
    )
    return evaluator


def evaluate(source: str, names: Mapping[str, Any]) -> Any:
    """Evaluate a checked expression against `names` (the task data)."""
    check_expression(source)
    return _evaluator(names).eval(source.strip())


def execute(source: str, names: MutableMapping[str, Any]) -> None:
    """Run an assignment-only script, writing its results into `names`."""
    for stmt in _script_statements(source):
        assert isinstance(stmt, (ast.Assign, ast.AugAssign))
        segment = ast.get_source_segment(source, stmt.value) or ""
        value = _evaluator(names).eval(segment)
        if isinstance(stmt, ast.Assign):
            target = stmt.targets[0]
            assert isinstance(target, ast.Name)
            names[target.id] = value
        else:
            assert isinstance(stmt.target, ast.Name)
            op = simpleeval.DEFAULT_OPERATORS[type(stmt.op)]
            names[stmt.target.id] = op(names[stmt.target.id], value)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """SpiffWorkflow's script environment, with simpleeval in place of eval/exec."""

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        names = {**(external_context or {}), **context}
        return evaluate(expression, names)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        execute(script, context)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ExpressionRefused("Khanton ไม่รองรับ service task")


class RestrictedScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(environment=RestrictedEnvironment())

    def validate(self, expression: str) -> None:
        check_expression(expression)


SCRIPT_ENGINE = RestrictedScriptEngine()
