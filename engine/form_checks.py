"""Checks a form names under `x-khanton-checks`: rules JSON Schema cannot express.

Each check takes the submitted data and what the instance already knows, and returns the field
errors (empty when the data is sound). Add a check here and name it in a form to use it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .errors import FieldError

Check = Callable[[dict[str, Any], dict[str, Any]], list[FieldError]]


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def transfers_within_leftover(data: dict[str, Any], known: dict[str, Any]) -> list[FieldError]:
    """Transfers out of a budget line never exceed its leftover, and name a line that exists."""
    lines = known.get("lines") or data.get("lines") or []
    leftover = {str(line.get("line_id")): _money(line.get("leftover", 0)) for line in lines}
    errors: list[FieldError] = []
    totals: dict[str, Decimal] = {}
    for index, transfer in enumerate(data.get("transfers", [])):
        source = str(transfer.get("from_line"))
        if source not in leftover:
            errors.append(FieldError(f"transfers.{index}.from_line", f"ไม่มีรายการ {source} ในผลการวิเคราะห์"))
            continue
        totals[source] = totals.get(source, Decimal(0)) + _money(transfer.get("amount", 0))
        if totals[source] > leftover[source]:
            errors.append(FieldError(
                f"transfers.{index}.amount",
                f"ยอดโอนออกจากรายการ {source} รวม {totals[source]:,.2f} บาท "
                f"เกินเงินเหลือจ่าย {leftover[source]:,.2f} บาท",
            ))
    return errors


def allocations_within_ceiling(data: dict[str, Any], known: dict[str, Any]) -> list[FieldError]:
    """What is allocated to schools and to the office's units never exceeds the budget ceiling."""
    ceiling = data.get("budget_ceiling", known.get("budget_ceiling"))
    if ceiling is None:
        return []
    total = Decimal(0)
    errors: list[FieldError] = []
    for table in ("school_allocations", "office_allocations"):
        for index, line in enumerate(data.get(table, [])):
            total += _money(line.get("amount", 0))
            if total > _money(ceiling) and not errors:
                errors.append(FieldError(
                    f"{table}.{index}.amount",
                    f"ยอดจัดสรรรวม {total:,.2f} บาท เกินวงเงินงบประมาณ {_money(ceiling):,.2f} บาท",
                ))
    return errors


CHECKS: dict[str, Check] = {
    "transfers_within_leftover": transfers_within_leftover,
    "allocations_within_ceiling": allocations_within_ceiling,
}
