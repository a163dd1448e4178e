"""The restricted evaluator: what analysts may write, and what never runs."""

from __future__ import annotations

import pytest

from engine import expressions
from engine.expressions import ExpressionRefused


@pytest.mark.parametrize(("source", "names", "expected"), [
    ('decision == "approved"', {"decision": "approved"}, True),
    ("sum(l['amount'] for l in lines) <= 100", {"lines": [{"amount": 40}, {"amount": 60}]}, True),
    ("len(schools) if schools else 0", {"schools": [1, 2]}, 2),
    ("request_kind in ['urgent', 'annual']", {"request_kind": "urgent"}, True),
    ("d.get('x', 3)", {"d": {}}, 3),
])
def test_allowed_expressions_evaluate(source: str, names: dict[str, object], expected: object) -> None:
    assert expressions.evaluate(source, names) == expected


@pytest.mark.parametrize("source", [
    "__import__('os')", "open('/etc/passwd')", "x.__class__", "x.__class__.__mro__", "getattr(x, 'y')",
    "eval('1')", "exec('1')", "compile('1', 'x', 'exec')", "globals()", "'{0.__class__}'.format(x)",
    "(lambda: 1)()", "[c for c in ().__class__.__bases__]", "type(x)", "vars()", "breakpoint()",
])
def test_forbidden_expressions_are_refused_before_running(source: str) -> None:
    with pytest.raises(ExpressionRefused):
        expressions.check_expression(source)
    with pytest.raises(ExpressionRefused):
        expressions.evaluate(source, {"x": 1})


def test_evaluation_is_bounded_in_memory() -> None:
    import simpleeval

    with pytest.raises(simpleeval.IterableTooLong):
        expressions.evaluate("'a' * 10 ** 9", {})
    with pytest.raises(simpleeval.NumberTooHigh):
        expressions.evaluate("10 ** 10 ** 10", {})
    with pytest.raises(simpleeval.IterableTooLong):
        expressions.evaluate("[x for x in items for y in items]", {"items": list(range(200))})


def test_scripts_only_assign() -> None:
    names: dict[str, object] = {"a": 2}
    expressions.execute("b = a * 3\nb += 1", names)
    assert names == {"a": 2, "b": 7}
    for bad in ["import os", "for i in x: pass", "x.y = 1", "def f(): pass", "_x = 1", "open = 1",
                "a = __import__('os')", "while True: pass"]:
        with pytest.raises(ExpressionRefused):
            expressions.check_script(bad)


def test_task_data_cannot_smuggle_builtins() -> None:
    with pytest.raises(ExpressionRefused):
        expressions.evaluate("__builtins__", {"__builtins__": {"open": open}})
