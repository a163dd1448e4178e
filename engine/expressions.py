"""Restricted evaluation of BPMN conditions and scripts (they come from analysts' edits: untrusted).

Two layers. Here, a static check of the syntax tree against an allow-list of node types, names,
functions and methods, run at publish time and again before every evaluation, so a bad definition
never becomes a version. In `evaluator`, simpleeval with a budget: every value made is measured, and
time is bounded per evaluation and, through `time_limit`, per run of automatic steps.
"""

from __future__ import annotations

import ast
import builtins
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from functools import lru_cache
from typing import Any

import simpleeval
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

from .evaluator import EVALUATION_SECONDS, BoundedEval, LimitExceeded, measure
from .folding import FoldRefused, fold, folding_now

MAX_EXPRESSION_CHARS = 2_000
MAX_SCRIPT_LINES = 200
MAX_SCRIPT_CHARS = 20_000
MAX_ROUNDS = 2_000  # rounds of one multi-instance task (an office has a few hundred schools)
MAX_SYNTAX_DEPTH = 40  # nesting of the syntax tree; the evaluator recurses once per level

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


def _syntax_depth(tree: ast.AST) -> int:
    deepest, pending = 0, [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _check_tree(tree: ast.AST, line_offset: int = 0) -> list[tuple[ast.expr, Any]]:
    """Check `tree` against the allow-list; when checking a definition, its constant parts computed."""
    if _syntax_depth(tree) > MAX_SYNTAX_DEPTH:
        raise ExpressionRefused(f"นิพจน์ซ้อนกันลึกเกิน {MAX_SYNTAX_DEPTH} ชั้น", getattr(tree, "lineno", None))
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
        if isinstance(node, ast.Constant):
            try:
                measure(node.value)
            except LimitExceeded as err:
                raise ExpressionRefused(err.message, where) from None
    try:
        return fold(tree, ALLOWED_FUNCTIONS, _constant_evaluator)
    except FoldRefused as err:
        line = getattr(err.node, "lineno", None)
        raise ExpressionRefused(f"{err.message} (คำนวณจากค่าคงที่ในนิยาม)", line + line_offset if line else None) from None


def _constant_evaluator(deadline: float) -> BoundedEval:
    return BoundedEval({}, ALLOWED_FUNCTIONS, _ALLOWED_ATTRS, deadline)


def _parse(source: str, mode: str, what: str) -> ast.AST:
    try:
        return ast.parse(source, mode=mode)
    except SyntaxError as err:
        raise ExpressionRefused(f"{what}ผิดไวยากรณ์: {err.msg}", err.lineno) from None
    except (RecursionError, MemoryError, ValueError):  # deep nesting, NUL characters
        raise ExpressionRefused(f"{what}ซ้อนกันลึกเกินไปหรือมีอักขระที่ไม่อนุญาต") from None


def check_expression(source: str, cardinality: bool = False) -> None:
    """Raise ExpressionRefused if `source` is not a safe single expression (with `cardinality`, a
    multi-instance loopCardinality: a constant one must be a number of rounds within MAX_ROUNDS)."""
    if len(source) > MAX_EXPRESSION_CHARS:
        raise ExpressionRefused(f"นิพจน์ยาวเกิน {MAX_EXPRESSION_CHARS} ตัวอักษร")
    tree = _parse(source.strip(), "eval", "นิพจน์")
    constants = _check_tree(tree)
    whole = tree.body if isinstance(tree, ast.Expression) else None
    if isinstance(whole, ast.Constant):
        constants.append((whole, whole.value))
    for part, value in constants if cardinality else []:
        if part is whole and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ROUNDS):
            raise ExpressionRefused(f"loopCardinality ต้องเป็นจำนวนเต็ม 0 ถึง {MAX_ROUNDS:,} (ได้ {value!r:.40})")


def _script_statements(source: str) -> list[ast.stmt]:
    lines = source.splitlines()
    if len(lines) > MAX_SCRIPT_LINES:
        raise ExpressionRefused(f"สคริปต์ยาวเกิน {MAX_SCRIPT_LINES} บรรทัด")
    if len(source) > MAX_SCRIPT_CHARS:
        raise ExpressionRefused(f"สคริปต์ยาวเกิน {MAX_SCRIPT_CHARS:,} ตัวอักษร")
    module = _parse(source, "exec", "สคริปต์")
    assert isinstance(module, ast.Module)
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
        try:
            _check_tree(ast.Expression(body=value), 0)
        except ExpressionRefused as err:
            err.line = err.line or stmt.lineno
            raise
    return module.body


def check_script(source: str) -> None:
    """Raise ExpressionRefused if `source` is not a safe assignment-only script."""
    _script_statements(source)


# The check and the parse depend on the text alone, so at run time an expression or a script (the same few
# conditions and scripts of the published versions, on every completion) is checked and parsed once per
# process. Only what passed is kept (lru_cache keeps no exception), and never while a definition is being
# checked (`folding`): there the check also computes the constant parts, within that check's budget.
# The trees are shared: the evaluator only reads them.
CHECKED_CACHE_SIZE = 1024


@lru_cache(maxsize=CHECKED_CACHE_SIZE)
def _checked_expression(source: str) -> ast.expr:
    check_expression(source)
    tree = ast.parse(source.strip(), mode="eval")
    assert isinstance(tree, ast.Expression)
    return tree.body


@lru_cache(maxsize=CHECKED_CACHE_SIZE)
def _checked_script(source: str) -> tuple[ast.stmt, ...]:
    return tuple(_script_statements(source))


def _expression_tree(source: str) -> ast.expr:
    if folding_now():
        return _checked_expression.__wrapped__(source)
    return _checked_expression(source)


_run_deadline: ContextVar[float | None] = ContextVar("khanton_run_deadline", default=None)


@contextmanager
def time_limit(seconds: float) -> Iterator[float]:
    """Bound every evaluation inside the block by one shared deadline (a run of automatic steps)."""
    deadline = time.monotonic() + seconds
    token = _run_deadline.set(deadline)
    try:
        yield deadline
    finally:
        _run_deadline.reset(token)


def _evaluator(names: Mapping[str, Any]) -> BoundedEval:
    deadline = time.monotonic() + EVALUATION_SECONDS
    run_deadline = _run_deadline.get()
    if run_deadline is not None:
        deadline = min(deadline, run_deadline)
    return BoundedEval(names, ALLOWED_FUNCTIONS, _ALLOWED_ATTRS, deadline)


# What a checked expression can still raise on bad data; each becomes a refusal said in Thai.
_EVALUATION_ERRORS = (LimitExceeded, simpleeval.InvalidExpression, ArithmeticError, LookupError, TypeError,
                      ValueError, RecursionError)


def _refused(err: Exception, line: int | None = None) -> ExpressionRefused:
    """simpleeval's and the budget's refusals, in Thai."""
    if isinstance(err, LimitExceeded):
        message = err.message
    elif isinstance(err, simpleeval.NameNotDefined):
        message = f"ไม่มีข้อมูลชื่อ {err.name}"
    elif isinstance(err, simpleeval.IterableTooLong):
        message = f"รายการหรือ comprehension ยาวเกิน {simpleeval.MAX_COMPREHENSION_LENGTH:,} รายการ"
    elif isinstance(err, simpleeval.NumberTooHigh):
        message = "ตัวเลขใหญ่เกินไป"
    elif isinstance(err, simpleeval.InvalidExpression):
        message = f"ใช้ไม่ได้: {err}"
    elif isinstance(err, ZeroDivisionError):
        message = "หารด้วยศูนย์"
    elif isinstance(err, KeyError):
        message = f"ไม่มีคีย์ {err}"
    elif isinstance(err, RecursionError):
        message = "ข้อมูลซ้อนกันลึกเกินกว่าจะคำนวณได้"
    else:
        message = f"คำนวณไม่สำเร็จ ({type(err).__name__}: {str(err)[:200]})"
    return ExpressionRefused(message, line)


def evaluate(source: str, names: Mapping[str, Any]) -> Any:
    """Evaluate a checked expression against `names` (the task data)."""
    tree = _expression_tree(source)
    try:
        return _evaluator(names).eval(source.strip(), previously_parsed=tree)
    except _EVALUATION_ERRORS as err:
        raise _refused(err) from None


def execute(source: str, names: MutableMapping[str, Any]) -> None:
    """Run an assignment-only script; its results reach `names` only if every line succeeds.

    One evaluator runs the whole script, so the time and size budgets are the script's, not a line's;
    what it assigns must be storable (JSON-like, within the size caps).
    """
    evaluator = _evaluator(names)
    written: dict[str, Any] = {}
    for stmt in _script_statements(source) if folding_now() else _checked_script(source):
        assert isinstance(stmt, (ast.Assign, ast.AugAssign))
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
        assert isinstance(target, ast.Name)
        value_node: ast.expr = stmt.value
        if isinstance(stmt, ast.AugAssign):  # x += y is evaluated as x + y, through the checked operators
            value_node = ast.BinOp(left=ast.Name(id=target.id, ctx=ast.Load()), op=stmt.op, right=stmt.value)
        try:
            value = evaluator.eval(source, previously_parsed=value_node)
            evaluator.charge(value, stored=True)
        except _EVALUATION_ERRORS as err:
            raise _refused(err, stmt.lineno) from None
        evaluator.names[target.id] = written[target.id] = value
    names.update(written)


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

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        result = super().evaluate(task, expression, external_context)
        spec = task.task_spec
        # A loopCardinality makes that many rounds in one step, before any step bound can look.
        if isinstance(spec, MultiInstanceTask) and expression == spec.cardinality and (
            not isinstance(result, int) or not 0 <= result <= MAX_ROUNDS
        ):
            refused = ExpressionRefused(f"loopCardinality ต้องเป็นจำนวนเต็ม 0 ถึง {MAX_ROUNDS:,} (ได้ {result!r:.40})")
            raise WorkflowTaskException(refused.message, task=task, exception=refused)
        return result

    def validate(self, expression: str) -> None:
        check_expression(expression)


SCRIPT_ENGINE = RestrictedScriptEngine()
