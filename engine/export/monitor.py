"""/monitor's rows as export cells: Thai headers, Buddhist-era dates on the Bangkok clock."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ..read.monitor import MonitorRow
from ..thai_calendar import bangkok, thai_date, thai_datetime
from .table import Cell

HEADERS = ["รหัสกระบวนงานที่ดำเนินการ", "กระบวนงาน", "เรื่อง", "ปีงบประมาณ", "สถานะ", "ขั้นตอนปัจจุบัน",
           "ผู้รับผิดชอบ", "เริ่มเมื่อ", "เคลื่อนไหวล่าสุด", "กำหนดเสร็จ", "เกินกำหนด", "ข้อขัดข้อง"]


def cells(row: MonitorRow, status_names: Mapping[str, str]) -> list[Cell]:
    due = row.due_at
    return [row.id, row.process_name, row.title, row.fiscal_year, status_names.get(row.status, row.status),
            "; ".join(s.name for s in row.steps), "; ".join(s.holder for s in row.steps),
            thai_date(bangkok(row.started_at).date()), thai_datetime(row.updated_at),
            thai_datetime(due) if due else "", "เกินกำหนด" if row.overdue else "", row.error or ""]


def chunks(found: Iterable[list[MonitorRow]], status_names: Mapping[str, str]) -> Iterator[list[list[Cell]]]:
    for rows in found:
        yield [cells(row, status_names) for row in rows]
