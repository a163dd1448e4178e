"""The analyst's workbench in the engine: drafts kept on the server (surviving a restart, hostile input
refused with nothing stored), checking a draft with its forms given as data, publishing it with those
forms, the audit trail, and refusals for everyone but analysts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.authoring import drafts
from engine.authoring.workbench import Workbench
from engine.errors import Forbidden, InvalidData, InvalidDefinition
from engine.models import AuditEntry, ProcessDraft, ProcessVersion
from engine.people import audit
from tests.conftest import World, make_khanton

FORM = {"type": "object", "title": "ขอลา", "properties": {
    "reason": {"type": "string", "title": "เหตุผล", "maxLength": 200}}, "required": ["reason"]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(f"sqlite:///{tmp_path_factory.mktemp('authoring') / 'khanton.db'}", load=False)
    yield w
    w.close()


@pytest.fixture(scope="module")
def bench(world: World) -> Workbench:
    return Workbench(world.khanton)


def _count(world: World) -> int:
    with world.khanton.db.transaction(read_only=True) as session:
        return session.scalar(select(func.count(ProcessDraft.id))) or 0


def test_drafts_are_kept_listed_newest_first_and_survive_a_restart(world: World, bench: Workbench) -> None:
    analyst = world.khanton.actor("analyst")
    opening = bench.open("leave-request", analyst, new=("ขอลา", "plan_officer"))
    first = bench.save("leave-request", opening.xml, opening.forms, analyst, "ร่างแรก")
    second = bench.save("leave-request", opening.xml.replace("ขั้นที่ 1", "ยื่นใบลา"), {}, analyst)
    restarted = make_khanton(world.khanton.db.url)  # another process on the same file
    try:
        again = Workbench(restarted)
        listed = again.open("leave-request", analyst, draft_id=first).drafts
        assert [d.id for d in listed] == [second, first]
        assert [d.author for d in listed] == ["analyst", "analyst"] and listed[1].note == "ร่างแรก"
        kept = again.open("leave-request", analyst, draft_id=second)
        assert "ยื่นใบลา" in kept.xml and kept.draft is not None and kept.draft.id == second
        assert again.open("leave-request", analyst, draft_id=first).forms == opening.forms
    finally:
        restarted.db.dispose()


def test_save_draft_is_the_import_entry_point(world: World) -> None:
    with world.khanton.db.transaction() as session:
        draft_id = drafts.save_draft(session, "imported-one", "<not-even-xml", {}, "analyst", "นำเข้า")
    with world.khanton.db.transaction(read_only=True) as session:
        assert drafts.draft(session, "imported-one", draft_id).xml == "<not-even-xml"


@pytest.mark.parametrize(("key", "xml", "forms", "note", "field"), [
    ("Bad Key", "<x/>", {}, "", "key"),
    ("ok-key", "", {}, "", "xml"),
    ("ok-key", "x" * (5 * 1024 * 1024 + 1), {}, "", "xml"),
    ("ok-key", "<x>\x00</x>", {}, "", "xml"),
    ("ok-key", "<x/>", {"../etc/passwd": {}}, "", "forms"),
    ("ok-key", "<x/>", {"a/b.json": "not an object"}, "", "forms"),
    ("ok-key", "<x/>", {"a/b.json": {"n": float("nan")}}, "", "forms"),
    ("ok-key", "<x/>", [], "", "forms"),
    ("ok-key", "<x/>", {}, "ย" * 501, "note"),
])
def test_hostile_drafts_are_refused_and_change_nothing(world: World, key: str, xml: str, forms: object,
                                                        note: str, field: str) -> None:
    before = _count(world)
    with pytest.raises(InvalidData) as refused, world.khanton.db.transaction() as session:
        drafts.save_draft(session, key, xml, forms, "analyst", note)  # type: ignore[arg-type]
    assert [d["field"] for d in refused.value.details] == [field]
    assert all(d["message"] for d in refused.value.details)
    assert _count(world) == before


def test_a_draft_with_its_form_as_data_checks_and_publishes_with_that_form(world: World, bench: Workbench) -> None:
    analyst = world.khanton.actor("analyst")
    opening = bench.open("sick-leave", analyst, new=("ลาป่วย", "plan_officer"))
    problems = bench.check("sick-leave", opening.xml, {}, analyst)  # no form file on disk, none given
    assert [(p.element, "sick-leave/first_step.json" in p.message) for p in problems] == [("first_step", True)]
    with pytest.raises(InvalidDefinition):
        bench.publish("sick-leave", opening.xml, {}, analyst, "ไม่ควรได้")
    forms = {"sick-leave/first_step.json": FORM}
    assert bench.check("sick-leave", opening.xml, forms, analyst) == []
    published = bench.publish("sick-leave", opening.xml, forms, analyst, "รุ่นแรกจากเครื่องมือแก้ไข")
    assert (published.version, published.created) == (1, True)
    with world.khanton.db.transaction(read_only=True) as session:
        version = session.scalars(select(ProcessVersion).where(ProcessVersion.key == "sick-leave")).one()
        assert version.forms["sick-leave/first_step.json"] == FORM
        entries, _ = audit.page(session, target="sick-leave")
    assert [(e.action, e.actor, e.detail) for e in entries] == [
        ("publish", "analyst", {"version": 1, "note": "รุ่นแรกจากเครื่องมือแก้ไข"})]
    instance = world.api("officer").post("/instances", json={"process": "sick-leave", "data": {}}).get_json()
    task = world.api("officer").get(f"/tasks/{instance['ready_tasks'][0]['id']}").get_json()
    assert task["form"]["properties"]["reason"]["title"] == "เหตุผล"
    # The next edit keeps the published form though the forms folder has no such file.
    assert bench.check("sick-leave", opening.xml.replace("ขั้นที่ 1", "ยื่นใบลาป่วย"), {}, analyst) == []


def test_a_task_outside_any_lane_is_a_problem_on_that_element(world: World, bench: Workbench) -> None:
    analyst = world.khanton.actor("analyst")
    opening = bench.open("lane-less", analyst, new=("ไม่มี lane", "plan_officer"))
    xml = opening.xml.replace("<bpmn:flowNodeRef>first_step</bpmn:flowNodeRef>", "")
    problems = bench.check("lane-less", xml, opening.forms, analyst)
    assert [p.element for p in problems] == ["first_step"] and "lane" in problems[0].message
    assert problems[0].line is not None


@pytest.mark.parametrize("user", ["officer", "supervisor", "head"])
def test_only_analysts_use_the_workbench(world: World, bench: Workbench, user: str) -> None:
    actor = world.khanton.actor(user)
    before = _count(world)
    with world.khanton.db.transaction(read_only=True) as session:
        audited = session.scalar(select(func.count(AuditEntry.id)))
    for attempt in (lambda: bench.open("sick-leave", actor), lambda: bench.save("x-y", "<x/>", {}, actor),
                    lambda: bench.check("x-y", "<x/>", {}, actor), lambda: bench.lanes(actor),
                    lambda: bench.publish("sick-leave", "<x/>", {}, actor),
                    lambda: bench.form("sick-leave", "sick-leave/first_step.json", actor)):
        with pytest.raises(Forbidden) as refused:
            attempt()
        assert "analyst" in refused.value.message
    assert _count(world) == before
    with world.khanton.db.transaction(read_only=True) as session:
        assert session.scalar(select(func.count(AuditEntry.id))) == audited


def test_the_migration_makes_the_table(world: World) -> None:
    assert Path(__file__).parent.parent.joinpath("engine/migrations/versions/0013_process_drafts.py").is_file()
    with world.khanton.db.transaction(read_only=True) as session:
        assert session.scalar(select(func.count(ProcessDraft.id))) is not None
