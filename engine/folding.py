"""The constant parts of an analyst's expression, computed when a definition is checked.

The run-time budget (engine.evaluator) stops a resource bomb at its first run; a bomb written in
constants alone ('a' * 10 ** 9, 9 ** 9 ** 9, f'{1:>200000000}') is the same every run, so it is refused
with the definition, at publish, validate and import: each part of an expression that reads no task data
is computed in the same bounded evaluator, and one that goes past a size bound is refused there.

Only inside `folding` (a check of a batch of definitions), within BATCH_SECONDS for the whole batch and
FOLD_SECONDS for a part: a part too slow for that is left to the run's time budget, not refused, so a
busy machine never refuses a good definition. Other errors (a division by zero in a branch never taken)
are the run's to report, as before.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable, Collection, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

import simpleeval

from .evaluator import BoundedEval, LimitExceeded, TimeExceeded

FOLD_SECONDS = 0.05
BATCH_SECONDS = 0.5
_remaining: ContextVar[list[float] | None] = ContextVar("khanton_folding", default=None)
_BINDS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr, ast.Lambda)
# What a constant part may raise that the run reports in its own words (engine.expressions._refused).
_LEFT_TO_THE_RUN = (simpleeval.InvalidExpression, ArithmeticError, LookupError, TypeError, ValueError,
                    RecursionError, AttributeError)
T = TypeVar("T")


def folding(check: Callable[[], T]) -> T:
    """Run `check` (a batch of definitions) with constant parts computed, within one time budget."""
    token = _remaining.set([BATCH_SECONDS])
    try:
        return check()
    finally:
        _remaining.reset(token)


def folding_now() -> bool:
    """Whether a batch of definitions is being checked here (constant parts are computed)."""
    return _remaining.get() is not None


def _reads_nothing(node: ast.AST, functions: Collection[str]) -> bool:
    return not any((isinstance(n, ast.Name) and n.id not in functions) or isinstance(n, _BINDS)
                   for n in ast.walk(node))


def constant_parts(tree: ast.AST, functions: Collection[str]) -> Iterator[ast.expr]:
    """The largest parts of `tree` that read no names but allowed functions (no task data)."""
    pending = [tree.body if isinstance(tree, ast.Expression) else tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.expr) and not isinstance(node, ast.Constant) and _reads_nothing(node, functions):
            yield node
        else:
            pending.extend(ast.iter_child_nodes(node))


def fold(tree: ast.AST, functions: Collection[str],
         evaluator: Callable[[float], BoundedEval]) -> list[tuple[ast.expr, Any]]:
    """The constant parts computed, with their values; LimitExceeded (with its node) past a size bound.
    Nothing outside `folding`: at run time the evaluation itself is bounded."""
    budget = _remaining.get()
    if budget is None:
        return []
    values = []
    for part in constant_parts(tree, functions):
        if budget[0] <= 0:
            break
        started = time.monotonic()
        try:
            values.append((part, evaluator(started + min(FOLD_SECONDS, budget[0])).eval("", previously_parsed=part)))
        except TimeExceeded:
            continue
        except LimitExceeded as err:
            raise FoldRefused(err.message, part) from None
        except _LEFT_TO_THE_RUN:
            continue
        finally:
            budget[0] -= time.monotonic() - started
    return values


class FoldRefused(LimitExceeded):
    """A constant part went past a size bound; `node` is the part (for its line)."""

    def __init__(self, message: str, node: ast.expr) -> None:
        super().__init__(message)
        self.node = node
