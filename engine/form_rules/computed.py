"""Figures a form computes (`x-computed`) and ceilings it keeps (`x-at-most`), on number fields.

An expression sees the instance's earlier data, the form's own data and, for a field inside a table
row, that row's fields; `sum(lines.amount)` is the total of a table column (also min, max, len), and
`sum_where(lines.amount, lines.category, category)` the total of the rows whose category is the given one. It
runs in the same restricted evaluator as the diagrams' conditions, with the same check at publish
time. The server is the one that counts: a missing figure is filled in, a different one refused.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from ..errors import FieldError
from ..expressions import ExpressionRefused, check_expression, evaluate

COMPUTED, AT_MOST = "x-computed", "x-at-most"
_COLUMN_FUNCTIONS = {"sum", "min", "max", "len"}
SUM_WHERE = "sum_where"
_ROW = "each_line"  # the comprehension's name for one table row; a plain name the safety check accepts
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Rule:
    """One x-computed or x-at-most expression on a number field (`table` set for a column of a table)."""

    key: str          # the property: "leftover"
    table: str | None  # the array it sits in: "lines", or None at the top of the form
    kind: str         # COMPUTED or AT_MOST
    source: str       # the expression as written in the form
    title: str
    integer: bool
    label: str = ""  # x-at-most-label: what the ceiling is, in Thai ("งบประมาณที่ได้รับ")

    @property
    def where(self) -> str:
        return f"{self.table}[].{self.key}" if self.table else self.key


def _cell(column: str) -> ast.expr:
    """each_line.get('amount') or 0"""
    return ast.BoolOp(op=ast.Or(), values=[
        ast.Call(func=ast.Attribute(value=ast.Name(id=_ROW, ctx=ast.Load()), attr="get", ctx=ast.Load()),
                 args=[ast.Constant(column)], keywords=[]),
        ast.Constant(0)])


def _table_column(node: ast.expr) -> tuple[str, str] | None:
    """("lines", "amount") for `lines.amount`, else None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id, node.attr
    return None


class _Columns(ast.NodeTransformer):
    """sum(lines.amount) -> sum([each_line.get('amount') or 0 for each_line in lines]);
    sum_where(lines.amount, lines.category, c) -> the same sum over the rows whose category equals c."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == SUM_WHERE and len(node.args) == 3:
            total, key = _table_column(node.args[0]), _table_column(node.args[1])
            if total is None or key is None or total[0] != key[0]:
                return node  # left as written: the safety check refuses the unknown function, naming it
            row_key = ast.Call(func=ast.Attribute(value=ast.Name(id=_ROW, ctx=ast.Load()), attr="get",
                                                  ctx=ast.Load()), args=[ast.Constant(key[1])], keywords=[])
            matches = ast.Compare(left=row_key, ops=[ast.Eq()], comparators=[node.args[2]])
            return ast.Call(func=ast.Name(id="sum", ctx=ast.Load()), keywords=[], args=[ast.ListComp(
                elt=_cell(total[1]), generators=[ast.comprehension(
                    target=ast.Name(id=_ROW, ctx=ast.Store()), iter=ast.Name(id=total[0], ctx=ast.Load()),
                    ifs=[matches], is_async=0)])])
        if (isinstance(node.func, ast.Name) and node.func.id in _COLUMN_FUNCTIONS and len(node.args) == 1
                and isinstance(node.args[0], ast.Attribute) and isinstance(node.args[0].value, ast.Name)):
            column = node.args[0]
            assert isinstance(column.value, ast.Name)
            node.args = [ast.ListComp(elt=_cell(column.attr), generators=[ast.comprehension(
                target=ast.Name(id=_ROW, ctx=ast.Store()), iter=ast.Name(id=column.value.id, ctx=ast.Load()),
                ifs=[], is_async=0)])]
        return node


@lru_cache(maxsize=1024)  # the text alone decides it: each rule's expression expanded once per process
def expand(source: str) -> str:
    """The expression with table columns written out, as the evaluator runs it."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source  # check_expression reports it in Thai
    return ast.unparse(ast.fix_missing_locations(_Columns().visit(tree)))


def rules(schema: Mapping[str, Any]) -> Iterator[Rule]:
    """Every rule of a form: top-level fields first, then the columns of its tables, in form order."""
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, sub in properties.items():
        if not isinstance(sub, dict):
            continue
        items = sub.get("items")
        if sub.get("type") == "array" and isinstance(items, dict) and isinstance(items.get("properties"), dict):
            tables.append((key, items["properties"]))
    for table, props in [*((t, p) for t, p in tables), (None, properties)]:
        for key, sub in props.items():
            for kind in (COMPUTED, AT_MOST):
                if isinstance(sub, dict) and kind in sub:
                    yield Rule(key, table, kind, sub[kind], str(sub.get("title") or key),
                               sub.get("type") == "integer", str(sub.get("x-at-most-label") or ""))


def check_form(schema: Mapping[str, Any]) -> list[str]:
    """What is wrong with a form's rules, in Thai, one line each (empty when sound): publish-time check."""
    problems = []
    properties = schema.get("properties", {})
    for rule in rules(schema):
        field = properties.get(rule.key, {}) if rule.table is None else (
            properties[rule.table]["items"]["properties"][rule.key])
        if field.get("type") not in ("number", "integer"):
            problems.append(f"ช่อง {rule.where}: {rule.kind} ใช้ได้กับช่องตัวเลข (number หรือ integer) เท่านั้น")
            continue
        if not isinstance(rule.source, str) or not rule.source.strip():
            problems.append(f"ช่อง {rule.where}: {rule.kind} ต้องเป็นนิพจน์ (ข้อความ)")
            continue
        try:
            check_expression(expand(rule.source))
        except ExpressionRefused as err:
            problems.append(f"ช่อง {rule.where}: {rule.kind} {rule.source!r} ใช้ไม่ได้: {err.message}")
    return problems


def _decimals(value: Any) -> Any:
    """JSON numbers as Decimals, so that 0.1 + 0.2 is 0.3 and money adds up to the satang."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    return value


def _number(value: Any, integer: bool) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ExpressionRefused(f"ผลการคำนวณไม่ใช่ตัวเลข ({value!r:.40})")
    exact = Decimal(str(value))
    return exact.quantize(Decimal(1) if integer else CENT, rounding=ROUND_HALF_UP)


def _baht(title: str, value: Decimal) -> str:
    return f"{value:,.2f} บาท" if "บาท" in title or "งบ" in title or "เงิน" in title else f"{value:,}"


def _rows(rule: Rule, data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(field path, the row or the form, the names the expression sees besides the form's own)."""
    if rule.table is None:
        yield rule.key, data, {}
        return
    table = data.get(rule.table)
    for index, row in enumerate(table if isinstance(table, list) else []):
        if isinstance(row, dict):
            yield f"{rule.table}.{index}.{rule.key}", row, row


@lru_cache(maxsize=1024)
def _names_read(expanded: str) -> frozenset[str] | None:
    """The names an expanded expression reads (None when it does not parse: evaluate says why)."""
    try:
        tree = ast.parse(expanded.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return frozenset(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))


def _value(rule: Rule, names: Mapping[str, Any]) -> Decimal:
    expanded = expand(rule.source)
    read = _names_read(expanded)
    # Only the names the expression reads become Decimals: the instance's whole data was converted each time.
    wanted = names if read is None else {name: names[name] for name in read if name in names}
    return _number(evaluate(expanded, _decimals(dict(wanted))), rule.integer)


def fill(schema: Mapping[str, Any], data: dict[str, Any], known: Mapping[str, Any]) -> None:
    """Fill in the computed figures the data leaves out (before the schema is checked, so that `required`
    does not ask a person for a number the server counts). What cannot be computed yet is left out: the
    schema's own refusals then say which input is missing or wrong."""
    for rule in rules(schema):
        if rule.kind != COMPUTED:
            continue
        for _path, holder, row in _rows(rule, data):
            if rule.key in holder:
                continue
            try:
                value = _value(rule, {**known, **data, **row})
            except ExpressionRefused:
                continue
            holder[rule.key] = int(value) if rule.integer else float(value)


def refusals(schema: Mapping[str, Any], data: dict[str, Any], known: Mapping[str, Any]) -> list[FieldError]:
    """A figure that differs from what the server computes, or that passes its ceiling, each named."""
    errors: list[FieldError] = []
    for rule in rules(schema):
        for path, holder, row in _rows(rule, data):
            sent = holder.get(rule.key)
            if sent is None or isinstance(sent, bool):
                continue
            try:
                value = _value(rule, {**known, **data, **row})
            except ExpressionRefused as err:
                if rule.kind == COMPUTED:
                    errors.append(FieldError(path, f"คำนวณ {rule.title} ไม่ได้: {err.message}"))
                continue  # a ceiling that names data not given yet (an optional field) holds nothing back
            try:
                given = Decimal(str(sent))
            except InvalidOperation:
                continue
            if rule.kind == COMPUTED and given.quantize(CENT) != value.quantize(CENT):
                what = "ผลรวมของรายการ" if rule.source.strip().startswith("sum(") else "ค่าที่คำนวณจากข้อมูล"
                errors.append(FieldError(path, f"{rule.title} ต้องเท่ากับ{what} ({_baht(rule.title, value)})"))
            elif rule.kind == AT_MOST and given > value:
                limit = rule.label or "ค่าสูงสุดที่กำหนด"
                errors.append(FieldError(
                    path, f"{rule.title} {_baht(rule.title, given)} เกิน{limit} ({_baht(rule.title, value)})"))
    return errors
