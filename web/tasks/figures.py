"""What the task page's live figures (static/js/computed.js) may read of the instance's earlier data."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from engine.form_rules.computed import expand, rules

from .common import bp


def _names(source: str) -> set[str]:
    try:
        tree = ast.parse(expand(source), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _numbers(value: Any) -> Any:
    """Numbers, and tables' numeric columns: nothing else of the instance reaches the page's script."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list):
        return [{k: v for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
                for row in value if isinstance(row, dict)]
    return None


@bp.app_template_filter("known_figures")
def known_figures(data: Mapping[str, Any], form: Mapping[str, Any]) -> dict[str, Any]:
    """The earlier figures a form's x-computed / x-at-most expressions name, and only those."""
    named: set[str] = set()
    for rule in rules(form):
        named |= _names(rule.source)
    found = {name: _numbers(data[name]) for name in sorted(named) if name in data}
    return {name: value for name, value in found.items() if value is not None}
