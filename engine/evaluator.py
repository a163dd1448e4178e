"""simpleeval with a budget: every value an analyst's expression makes is measured, and time is checked.

simpleeval bounds its inputs (string literals, `**`, `*` on short sequences) but not what methods and
functions return: `('a'*3000).replace('a', 'a'*3000)` made 9 MB, `sum([[0]*1800]*1800, [])` ran 38 s and
`f"{1:>200000000}"` 195 MB. Here each node's result is measured as JSON would store it (items plus
characters, shared references counted every time) against a per-value cap and a per-evaluation total, a
clock is read before every node, and the operations that can allocate a lot in one C call (`**`, `<<`,
`*`, `str.replace`, `str.join`, format specs, `%`) are checked before they run. `engine/` callers see one
exception type, `LimitExceeded`, with a Thai message.
"""

from __future__ import annotations

import ast
import math
import re
import time
from collections.abc import Callable, ItemsView, Iterable, KeysView, Mapping, ValuesView
from decimal import Decimal
from functools import partial
from typing import Any

import simpleeval

MAX_STRING_CHARS = 100_000
MAX_VALUE_UNITS = 200_000  # one value: list/dict items + characters, as JSON would store it
MAX_EVALUATION_UNITS = 2_000_000  # everything one evaluation makes, together
MAX_VALUE_DEPTH = 64
MAX_INT_BITS = 1_400  # ~420 digits: far beyond any budget in baht, far below a slow number
MAX_DECIMAL_EXPONENT = 400
MAX_FORMAT_WIDTH = 200
MAX_ROUND_DIGITS = 100
EVALUATION_SECONDS = 1.0

NUMBERS = (int, float, Decimal)
_VIEWS = (KeysView, ValuesView, ItemsView)


class LimitExceeded(ValueError):
    """An evaluation went past a bound (size, time) or used an operation in a way that is refused."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TimeExceeded(LimitExceeded):
    """An evaluation ran past its deadline (a size bound is LimitExceeded itself)."""


def _check_number(value: Any) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise LimitExceeded(f"ตัวเลขใหญ่เกินไป (เกิน {MAX_INT_BITS} บิต)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise LimitExceeded("ผลลัพธ์ไม่ใช่ตัวเลขจำกัด (NaN หรือ Infinity)")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise LimitExceeded("ผลลัพธ์ไม่ใช่ตัวเลขจำกัด (NaN หรือ Infinity)")
        if abs(value.adjusted()) > MAX_DECIMAL_EXPONENT or len(value.as_tuple().digits) > MAX_DECIMAL_EXPONENT:
            raise LimitExceeded(f"ตัวเลขทศนิยมใหญ่หรือละเอียดเกินไป (เกิน {MAX_DECIMAL_EXPONENT} หลัก)")


_SCALARS = frozenset({bool, type(None), int, float})


def _flat_units(items: list[Any] | tuple[Any, ...] | set[Any] | frozenset[Any]) -> int | None:
    """Units of a sequence of scalars or of plain strings, at C speed; None if it holds anything else.

    Measuring item by item in Python cost more than making the value ([0]*50000 + [1] in a loop).
    """
    kinds = set(map(type, items))
    if kinds <= _SCALARS:
        if int in kinds or bool in kinds:
            whole = [i for i in items if type(i) is int] if float in kinds or type(None) in kinds else items
            if whole:
                _check_number(max(whole))
                _check_number(min(whole))
        if float in kinds and not all(map(math.isfinite, (i for i in items if type(i) is float))):
            raise LimitExceeded("ผลลัพธ์ไม่ใช่ตัวเลขจำกัด (NaN หรือ Infinity)")
        return len(items)
    if kinds == {str} and all(map(str.isascii, items)):
        longest = max(map(len, items))
        if longest > MAX_STRING_CHARS:
            raise LimitExceeded(f"ข้อความยาวเกิน {MAX_STRING_CHARS:,} ตัวอักษร")
        return len(items) + sum(map(len, items))
    return None


def measure(value: Any, limit: int = MAX_VALUE_UNITS, stored: bool = False) -> int:
    """Size of `value` as JSON would store it; LimitExceeded past `limit` or MAX_VALUE_DEPTH.

    Stops counting as soon as the limit is passed, so measuring is bounded too. With `stored`, only
    what the state and the `instances.data` JSON column can hold is accepted.
    """
    units = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        units += 1
        if depth > MAX_VALUE_DEPTH:
            raise LimitExceeded(f"ข้อมูลซ้อนกันลึกเกิน {MAX_VALUE_DEPTH} ชั้น")
        if isinstance(item, str):
            units += len(item)
            if len(item) > MAX_STRING_CHARS:
                raise LimitExceeded(f"ข้อความยาวเกิน {MAX_STRING_CHARS:,} ตัวอักษร")
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise LimitExceeded("ข้อความมีอักขระที่เก็บไม่ได้ (surrogate เดี่ยว)") from None
        elif isinstance(item, NUMBERS):
            _check_number(item)
            if stored and isinstance(item, Decimal):
                raise LimitExceeded("เก็บค่า Decimal ไม่ได้ แปลงเป็น float หรือ str ก่อน")
        elif item is None:
            pass
        elif isinstance(item, dict):
            for key, inner in item.items():
                if stored and not isinstance(key, str):
                    raise LimitExceeded("คีย์ของ dict ที่เก็บต้องเป็นข้อความ")
                pending.append((key, depth + 1))
                pending.append((inner, depth + 1))
                if units + len(pending) > limit:
                    break
        elif isinstance(item, (list, tuple)) or (not stored and isinstance(item, (set, frozenset))):
            flat = _flat_units(item)
            if flat is not None:
                units += flat
            else:
                pending.extend((inner, depth + 1) for inner in item)
        elif not stored and isinstance(item, _VIEWS):
            units += len(item)  # a view of data that already exists: only its length is new
        elif stored or not callable(item):
            raise LimitExceeded(f"เก็บค่าชนิด {type(item).__name__} ไม่ได้ "
                                "(ใช้ได้: ข้อความ ตัวเลข true/false null รายการ และ dict)")
        if units + len(pending) > limit:
            raise LimitExceeded(f"ผลลัพธ์ใหญ่เกิน {limit:,} หน่วย (รายการรวมตัวอักษร)")
    return units


# --- operations checked before they run ---------------------------------------------------------

def _power(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and a.bit_length() * b > MAX_INT_BITS:
        raise LimitExceeded(f"{a} ** {b} ใหญ่เกินไป")
    return a**b


def _lshift(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b > MAX_INT_BITS:
        raise LimitExceeded(f"{a} << {b} ใหญ่เกินไป")
    return simpleeval.safe_lshift(a, b)


def _repeat(a: Any, b: Any) -> Any:
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and times > 0:
            if measure(seq) * times > MAX_VALUE_UNITS:
                raise LimitExceeded(f"การคูณรายการหรือข้อความ {times:,} เท่าได้ผลใหญ่เกิน {MAX_VALUE_UNITS:,} หน่วย")
    return a * b


def _modulo(a: Any, b: Any) -> Any:
    if isinstance(a, (str, bytes)):
        raise LimitExceeded("ไม่อนุญาตการจัดรูปแบบข้อความด้วย % ให้ใช้ f-string แทน")
    return a % b


def _replace(text: str, old: str, new: str, count: int = -1) -> str:
    found = len(text) + 1 if old == "" else text.count(old)
    if count >= 0:
        found = min(found, count)
    if len(text) + found * (len(new) - len(old)) > MAX_STRING_CHARS:
        raise LimitExceeded(f"ผลของ replace ยาวเกิน {MAX_STRING_CHARS:,} ตัวอักษร")
    return text.replace(old, new, count)


def _join(separator: str, items: Iterable[Any]) -> str:
    parts = list(items)
    total = len(separator) * max(len(parts) - 1, 0)
    total += sum(len(p) for p in parts if isinstance(p, str))
    if total > MAX_STRING_CHARS:
        raise LimitExceeded(f"ผลของ join ยาวเกิน {MAX_STRING_CHARS:,} ตัวอักษร")
    return separator.join(parts)


def _sum(items: Iterable[Any], start: Any = 0) -> Any:
    values = list(items)
    if not all(isinstance(v, NUMBERS) for v in [*values, start]):
        raise LimitExceeded("sum ใช้ได้กับตัวเลขเท่านั้น")
    return sum(values, start)


def _round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS):
        raise LimitExceeded(f"round ปัดได้ไม่เกิน {MAX_ROUND_DIGITS} หลัก")
    return round(number) if ndigits is None else round(number, ndigits)


# [[fill]align][sign][z][#][0][width][grouping][.precision][type]: the format mini-language.
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[+\- ]?z?#?0?(?P<width>\d*)[_,]?(?:\.(?P<precision>\d+))?[a-zA-Z%]?",
                          re.DOTALL)


def _format(value: Any, spec: str) -> str:
    match = _FORMAT_SPEC.fullmatch(spec)
    if match is None:
        raise LimitExceeded(f"รูปแบบ {spec!r} ใน f-string ไม่ถูกต้อง")
    for part in ("width", "precision"):
        if len(match[part] or "") > 3 or int(match[part] or 0) > MAX_FORMAT_WIDTH:
            raise LimitExceeded(f"ความกว้างหรือทศนิยมใน f-string ต้องไม่เกิน {MAX_FORMAT_WIDTH}")
    return format(value, spec)


OPERATORS: dict[type[ast.AST], Callable[..., Any]] = {
    **simpleeval.DEFAULT_OPERATORS,
    ast.Pow: _power, ast.LShift: _lshift, ast.Mult: _repeat, ast.Mod: _modulo,
}
GUARDED_FUNCTIONS: dict[str, Callable[..., Any]] = {"sum": _sum, "round": _round}
_GUARDED_METHODS: dict[tuple[type, str], Callable[..., Any]] = {(str, "replace"): _replace, (str, "join"): _join}

_PASS_THROUGH = frozenset({"get", "min", "max"})
# Nodes whose result is a new value to measure; names, attributes and plain subscripts hand back
# values that already exist (task data), measured when they were made or bounded by the request size.
_MAKES_VALUES = (
    ast.BinOp, ast.UnaryOp, ast.Call, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.DictComp,
    ast.GeneratorExp, ast.JoinedStr, ast.FormattedValue, ast.Constant,
)


def _makes_value(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):  # these hand back one of their arguments, or a part of the data
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name not in _PASS_THROUGH
    return isinstance(node, _MAKES_VALUES) or (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice))


class BoundedEval(simpleeval.EvalWithCompoundTypes):  # type: ignore[misc]
    """One evaluation (one expression, or one whole script) with its own deadline and allocation total."""

    def __init__(self, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]],
                 allowed_attrs: Mapping[type, set[str]], deadline: float) -> None:
        super().__init__(operators=dict(OPERATORS), functions={**functions, **GUARDED_FUNCTIONS},
                         names=dict(names), allowed_attrs=dict(allowed_attrs))
        self.nodes[ast.FormattedValue] = self._eval_formatted
        self.deadline = deadline
        self.allocated = 0

    def charge(self, value: Any, stored: bool = False) -> None:
        self.allocated += measure(value, stored=stored)
        if self.allocated > MAX_EVALUATION_UNITS:
            raise LimitExceeded(f"การคำนวณสร้างข้อมูลรวมเกิน {MAX_EVALUATION_UNITS:,} หน่วย")

    def _eval(self, node: ast.AST) -> Any:
        # Replaces simpleeval's _eval, whose check of every result walked whole containers at every
        # node (4.6 s for [[0]*1000]*1000): the allow-listed syntax leaves no module or function to find.
        if time.monotonic() > self.deadline:
            raise TimeExceeded("คำนวณนานเกินเวลาที่กำหนด")
        handler = self.nodes.get(type(node))
        if handler is None:
            raise LimitExceeded(f"ใช้ไวยากรณ์ที่ไม่อนุญาต ({type(node).__name__})")
        result = handler(node)
        if _makes_value(node):
            self.charge(result)
        return result

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        found = super()._eval_attribute(node)
        owner = getattr(found, "__self__", None)
        guarded = _GUARDED_METHODS.get((type(owner), node.attr))
        return partial(guarded, owner) if guarded is not None else found

    def _eval_formatted(self, node: ast.FormattedValue) -> Any:
        value = self._eval(node.value)
        if node.format_spec is None:
            return value
        return _format(value, str(self._eval(node.format_spec)))
