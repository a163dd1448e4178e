"""The supervisor's list (engine/read/monitor.py) over instances with known histories under a fixed
clock: each filter, the sorts, the pages and their total, who holds each step, an error in words; and
its exports (engine/export/): CSV safe against formula injection, an .xlsx with Thai headers and
Buddhist-era dates."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import update

from engine.errors import Forbidden
from engine.export import monitor as export_monitor
from engine.export import table
from engine.models import Event, HumanTask, Instance
from engine.read import monitor
from engine.read.monitor import MonitorFilter
from tests.conftest import SCHOOLS, World, _fresh_postgres
from tests.drive import scenario

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # 5 ธ.ค. 2569 10:00 in Bangkok
SCHOOL = SCHOOLS[0][0]
STATUS_NAMES = {"running": "กำลังดำเนินการ", "error": "ขัดข้อง"}
EVERYTHING = MonitorFilter()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _set(world: World, instance_id: str, **values: Any) -> None:
    with world.khanton.db.transaction() as session:
        session.execute(update(Instance).where(Instance.id == instance_id).values(**values))


def _set_tasks(world: World, instance_id: str, **values: Any) -> None:
    with world.khanton.db.transaction() as session:
        session.execute(update(HumanTask).where(HumanTask.instance_id == instance_id,
                                                HumanTask.status == "ready").values(**values))


def build_known(world: World) -> dict[str, str]:
    """Five instances: a school's round, an overdue step, a claimed step, one in error, one of 2569."""
    k = world.khanton
    officer = k.actor("officer")

    def begin(key: str) -> dict[str, Any]:
        return k.start(key, scenario(key).get("start", {}), officer)

    school_round = begin("budget-transfer")
    school_round = k.complete(school_round["ready_tasks"][0]["id"], {
        "report_request_no": "ศธ 04173/1", "report_requested_on": "2026-10-01",
        "schools": [{"code": SCHOOL, "name": SCHOOLS[0][1]}]}, officer)
    ids = {"school": school_round["id"], "overdue": begin("annual-action-plan")["id"],
           "claimed": begin("budget-request")["id"], "error": begin("spending-plan")["id"],
           "old": begin("policy-development")["id"]}
    dates = {"school": ("2026-10-05T02:00", "2026-11-20T02:00"), "overdue": ("2026-10-10T02:00", "2026-10-11T02:00"),
             "claimed": ("2026-11-01T02:00", "2026-12-01T02:00"), "error": ("2026-11-15T02:00", "2026-11-16T02:00"),
             "old": ("2025-12-01T02:00", "2026-12-04T02:00")}
    for name, (started, moved) in dates.items():
        _set(world, ids[name], started_at=_at(started), updated_at=_at(moved))
    _set(world, ids["old"], fiscal_year=2569)
    _set(world, ids["school"], title="=HYPERLINK(\"http://evil\",\"คลิก\")")
    _set_tasks(world, ids["overdue"], due_at=_at("2026-12-01T10:00"))
    _set_tasks(world, ids["old"], due_at=_at("2026-12-20T10:00"))
    _set_tasks(world, ids["claimed"], assignee="officer")
    _set_tasks(world, ids["error"], status="cancelled")
    _set(world, ids["error"], status="error")
    with k.db.transaction() as session:
        session.add(Event(instance_id=ids["error"], actor="officer", kind="error", task_spec="Gateway_1",
                          task_name="Gateway_1", data={"element": "Gateway_1", "message": "ไม่มีทางออกที่เงื่อนไขเป็นจริง"}))
    return ids


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def known(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[World, dict[str, str]]]:
    """The same known instances on SQLite and on PostgreSQL (one suite, two databases)."""
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('monitor') / 'khanton.db'}"
    else:
        url, drop = _fresh_postgres(request.getfixturevalue("postgres_url"))
    world = World(url)
    yield world, build_known(world)
    world.close()
    if drop is not None:
        drop()


def _page(known: tuple[World, dict[str, str]], f: MonitorFilter = EVERYTHING, number: int = 1,
          size: int = 50, who: str = "supervisor") -> monitor.MonitorPage:
    world, _ = known
    with world.khanton.db.transaction(read_only=True) as session:
        return monitor.page(session, world.khanton.actor(who), f, number, size, now=NOW)


def _names(known: tuple[World, dict[str, str]], found: monitor.MonitorPage) -> list[str]:
    by_id = {v: k for k, v in known[1].items()}
    return [by_id[row.id] for row in found.rows]


def test_every_instance_newest_first_with_its_steps_and_holders(known: tuple[World, dict[str, str]]) -> None:
    found = _page(known)
    assert found.total.n == 5 and not found.total.more and found.pages == 1 and not found.has_next
    assert _names(known, found) == ["error", "claimed", "overdue", "school", "old"]
    rows = {name: row for name, row in zip(_names(known, found), found.rows, strict=True)}
    assert [s.holder for s in rows["school"].steps] == [SCHOOLS[0][1]]  # a school's round: the school
    assert rows["claimed"].steps[0].holder == "officer" and rows["claimed"].steps[0].claimed
    assert rows["overdue"].steps[0].holder == "เจ้าหน้าที่กลุ่มนโยบายและแผน"  # the lane's Thai name
    assert rows["overdue"].overdue and not rows["old"].overdue and rows["old"].due_at is not None
    assert rows["error"].steps == [] and rows["error"].error == "Gateway_1: ไม่มีทางออกที่เงื่อนไขเป็นจริง"
    assert "ไม่มีทางออกที่เงื่อนไขเป็นจริง" in rows["error"].error
    assert found.procedures and "school" in found.lanes and (SCHOOL, SCHOOLS[0][1]) in found.schools


@pytest.mark.parametrize(("f", "expected"), [
    (MonitorFilter(process="budget-request"), ["claimed"]),
    (MonitorFilter(status="error"), ["error"]),
    (MonitorFilter(status="running"), ["claimed", "overdue", "school", "old"]),
    (MonitorFilter(fiscal_year=2569), ["old"]),
    (MonitorFilter(lane="school"), ["school"]),
    (MonitorFilter(school=SCHOOL), ["school"]),
    (MonitorFilter(school=SCHOOLS[1][0]), []),
    (MonitorFilter(overdue=True), ["overdue"]),
    (MonitorFilter(lane="plan_officer", overdue=True), ["overdue"]),
    (MonitorFilter(started_from=date(2026, 10, 1), started_to=date(2026, 10, 31)), ["overdue", "school"]),
    (MonitorFilter(started_from=date(2026, 11, 15)), ["error"]),
    (MonitorFilter(started_to=date(2025, 12, 1)), ["old"]),  # the whole last day counts
    (MonitorFilter(sort="moved"), ["old", "claimed", "school", "error", "overdue"]),
    (MonitorFilter(sort="moved", descending=False), ["overdue", "error", "school", "claimed", "old"]),
    (MonitorFilter(sort="started", descending=False), ["old", "school", "overdue", "claimed", "error"]),
    (MonitorFilter(sort="year", descending=False, status="running", process="policy-development"), ["old"]),
])
def test_filters_and_sorts(known: tuple[World, dict[str, str]], f: MonitorFilter, expected: list[str]) -> None:
    found = _page(known, f)
    assert _names(known, found) == expected and found.total.n == len(expected)


def test_pages_with_a_total(known: tuple[World, dict[str, str]]) -> None:
    pages = [_page(known, number=n, size=2) for n in (1, 2, 3)]
    assert [p.total.n for p in pages] == [5, 5, 5] and pages[0].pages == 3
    assert [_names(known, p) for p in pages] == [["error", "claimed"], ["overdue", "school"], ["old"]]
    assert pages[0].has_next and not pages[2].has_next
    assert _names(known, _page(known, number=99, size=2)) == ["old"]  # past the end: the last page


def test_a_large_total_is_more_than_the_cap(known: tuple[World, dict[str, str]],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitor, "COUNT_CAP", 3)
    first, last = _page(known, size=2), _page(known, number=3, size=2)
    assert first.total == monitor.Count(3, more=True) and first.pages is None and first.has_next
    assert _names(known, last) == ["old"] and not last.has_next  # pages on without a last page number


def test_officers_and_schools_may_not_monitor(known: tuple[World, dict[str, str]]) -> None:
    for who in ("officer", "head", "school", "analyst"):
        with pytest.raises(Forbidden):
            _page(known, who=who)
    world, _ = known
    with world.khanton.db.transaction(read_only=True) as session, pytest.raises(Forbidden):
        next(monitor.export_chunks(session, world.khanton.actor("officer"), MonitorFilter()))


def test_export_reads_in_bounded_chunks(known: tuple[World, dict[str, str]]) -> None:
    world, _ = known
    with world.khanton.db.transaction(read_only=True) as session:
        actor = world.khanton.actor("supervisor")
        chunks = list(monitor.export_chunks(session, actor, MonitorFilter(), now=NOW, chunk=2))
        assert [len(c) for c in chunks] == [2, 2, 1]
        assert sum(len(c) for c in monitor.export_chunks(session, actor, MonitorFilter(), now=NOW, limit=3,
                                                          chunk=2)) == 3


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_quoted(value: str) -> None:
    assert table.safe(value) == "'" + value
    assert table.safe("ปกติ") == "ปกติ" and table.safe(2570) == 2570 and table.safe(None) is None


def _csv(known: tuple[World, dict[str, str]], f: MonitorFilter = EVERYTHING) -> str:
    world, _ = known
    with world.khanton.db.transaction(read_only=True) as session:
        rows = monitor.export_chunks(session, world.khanton.actor("supervisor"), f, now=NOW, chunk=2)
        return "".join(table.csv_text(export_monitor.HEADERS, export_monitor.chunks(rows, STATUS_NAMES)))


def test_csv_has_a_bom_thai_headers_be_dates_and_no_formulas(known: tuple[World, dict[str, str]]) -> None:
    text = _csv(known)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == export_monitor.HEADERS and len(rows) == 6
    school = next(r for r in rows if r[0] == known[1]["school"])
    assert school[2].startswith("'=HYPERLINK")  # stays text in Excel
    assert school[7] == "5 ต.ค. 2569" and school[6] == SCHOOLS[0][1]
    overdue = next(r for r in rows if r[0] == known[1]["overdue"])
    assert overdue[9] == "1 ธ.ค. 2569 17:00 น." and overdue[10] == "เกินกำหนด"
    error = next(r for r in rows if r[0] == known[1]["error"])
    assert error[4] == "ขัดข้อง" and "ไม่มีทางออก" in error[11]
    only = list(csv.reader(io.StringIO(_csv(known, MonitorFilter(overdue=True))[1:])))
    assert [r[0] for r in only[1:]] == [known[1]["overdue"]]  # exactly what is filtered


def test_xlsx_opens_with_thai_headers_and_be_dates(known: tuple[World, dict[str, str]], tmp_path: Path) -> None:
    world, ids = known
    with world.khanton.db.transaction(read_only=True) as session:
        rows = monitor.export_chunks(session, world.khanton.actor("supervisor"), MonitorFilter(), now=NOW)
        out = table.xlsx_file(export_monitor.HEADERS, export_monitor.chunks(rows, STATUS_NAMES), "ติดตามงาน")
    path = tmp_path / "monitor.xlsx"
    path.write_bytes(out.read())
    sheet = openpyxl.load_workbook(path, read_only=True)["ติดตามงาน"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == export_monitor.HEADERS and len(values) == 6
    old = next(r for r in values if r[0] == ids["old"])
    assert old[3] == 2569 and old[7] == "1 ธ.ค. 2568" and old[8] == "4 ธ.ค. 2569 09:00 น."
    assert next(r for r in values if r[0] == ids["school"])[2].startswith("'=")
