"""Search finds instances by title, document number, school or person — only among those the person
may see (the instance list's rule) — on SQLite and PostgreSQL; the search table follows every write."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select

from engine.errors import InvalidData
from engine.models import InstanceSearch
from engine.search import find
from engine.search.index import normalise
from tests.conftest import SCHOOL_OF, World
from tests.drive import advance_to, data_for, scenario, start, step


def _found(world: World, user: str, query: str, limit: int = 50, offset: int = 0) -> list[str]:
    khanton = world.khanton
    with khanton.db.transaction(read_only=True) as session:
        return [h.title for h in find.search(session, khanton.actor(user), query, limit, offset)]


def _budget(world: World, title: str) -> dict[str, Any]:
    return start(world, "budget-transfer", {"fiscal_year": 2570, "title": title})


def test_title_number_school_and_person_each_find_it(any_world: World) -> None:
    world = any_world
    world.khanton.add_user("kanda", ["officer"], ["plan_officer"], display_name="นางกานดา ศรีสุข")
    repair = _budget(world, "โอนงบลงทุน ซ่อมแซมอาคารเรียน")
    _budget(world, "โอนเงินเหลือจ่าย ครั้งที่ 1/2570")
    # A middle of a Thai word (no spaces to split on) is found: a substring, not a word, match.
    assert _found(world, "officer", "อมแซมอาคาร") == ["โอนงบลงทุน ซ่อมแซมอาคารเรียน"]
    assert _found(world, "officer", "  โอน   2570 ") == ["โอนเงินเหลือจ่าย ครั้งที่ 1/2570"]  # every word
    # A document number typed at a later step finds it once that step is completed.
    repair = advance_to(world, repair, "consider_leftover")
    assert _found(world, "officer", "345/2569") == []
    task_id = repair["ready_tasks"][0]["id"]
    task = world.api("committee").get(f"/tasks/{task_id}").get_json()
    data = {**data_for(task, scenario("budget-transfer")["steps"]), "committee_order_no": "สพป.ตก 345/2569"}
    assert world.api("committee").post(f"/tasks/{task_id}/complete", json={"data": data}).status_code == 200
    assert _found(world, "officer", "345/2569") == ["โอนงบลงทุน ซ่อมแซมอาคารเรียน"]
    assert _found(world, "officer", "สพป.ตก 345") == ["โอนงบลงทุน ซ่อมแซมอาคารเรียน"]
    # A person: by username or display name, of whoever started or acted.
    assert _found(world, "supervisor", "committee") == ["โอนงบลงทุน ซ่อมแซมอาคารเรียน"]
    assert _found(world, "supervisor", "กานดา") == []  # took no part
    other = _budget(world, "โอนงบอุดหนุน")
    world.khanton.hand_over(other["ready_tasks"][0]["id"], world.khanton.actor("officer"), "kanda", "")
    assert _found(world, "supervisor", "กานดา ศรี") == ["โอนงบอุดหนุน"]  # holds a task of it now
    assert _found(world, "kanda", "อุดหนุน") == ["โอนงบอุดหนุน"]
    # Wildcards are text: "%" and "_" match themselves only.
    assert _found(world, "supervisor", "%%") == []
    assert _found(world, "supervisor", "__") == []


def test_schools_see_only_their_own_and_others_what_they_may(any_world: World) -> None:
    world = any_world
    survey = start(world, "expenditure-analysis")
    _, survey = step(world, survey)  # the officer lists two schools: their rounds go to them
    school_name = "บ้านสาธิตเมืองตาก"  # SCHOOLS[0], the round of user "school"
    title = survey["data"].get("title") or _title(world, survey["id"])
    assert _found(world, "officer", school_name) == [title]
    assert _found(world, "officer", SCHOOL_OF["school2"]) == [title]  # by the school's code too
    assert _found(world, "school", school_name) == [title]
    assert _found(world, "outsider", school_name) == []  # a school with no round in it sees nothing
    assert _found(world, "school", "งบลงทุน") == []
    _budget(world, "โอนงบลงทุน ซ่อมแซมอาคารเรียน")
    assert _found(world, "school", "งบลงทุน") == []  # the office's own budget work is not a school's
    assert _found(world, "analyst", "งบลงทุน") == []
    assert _found(world, "supervisor", "งบลงทุน") == ["โอนงบลงทุน ซ่อมแซมอาคารเรียน"]
    assert _found(world, "head", "งบลงทุน") == ["โอนงบลงทุน ซ่อมแซมอาคารเรียน"]


def _title(world: World, instance_id: str) -> str:
    return str(world.api("supervisor").get(f"/instances/{instance_id}").get_json()["data"].get("title", ""))


def test_pages_newest_first(world: World) -> None:
    for n in range(1, 6):
        _budget(world, f"โอนงบ ครั้งที่ {n}")
    assert _found(world, "officer", "ครั้งที่", limit=2) == ["โอนงบ ครั้งที่ 5", "โอนงบ ครั้งที่ 4"]
    assert _found(world, "officer", "ครั้งที่", limit=2, offset=4) == ["โอนงบ ครั้งที่ 1"]


@pytest.mark.parametrize(("query", "message"), [("ก", "อย่างน้อย 2 ตัวอักษร"), ("   ", "อย่างน้อย 2 ตัวอักษร"),
                                                ("ก" * 101, "ยาวเกิน 100 ตัวอักษร")])
def test_a_query_too_short_or_too_long_is_refused_saying_why(world: World, query: str, message: str) -> None:
    with pytest.raises(InvalidData) as refused:
        _found(world, "officer", query)
    assert message in refused.value.errors[0].message


def test_thai_typed_another_way_still_matches(world: World) -> None:
    """SARA AM typed as its two parts, Thai digits, full-width and capital Latin letters."""
    _budget(world, "จัดทำแผน ศธ ๐๔๐๓๘/๑๒๓ REF-A")
    assert normalise("ทํา") == normalise("ทำ")
    assert _found(world, "officer", "จัดท\u0e4d\u0e32แผน") == ["จัดทำแผน ศธ ๐๔๐๓๘/๑๒๓ REF-A"]
    assert _found(world, "officer", "04038/123") == ["จัดทำแผน ศธ ๐๔๐๓๘/๑๒๓ REF-A"]
    assert _found(world, "officer", "ｒｅｆ-a") == ["จัดทำแผน ศธ ๐๔๐๓๘/๑๒๓ REF-A"]


def test_instances_from_before_the_search_table_are_filled_in(world: World) -> None:
    _budget(world, "โอนงบก่อนมีตารางค้นหา")
    with world.khanton.db.transaction() as session:
        session.execute(delete(InstanceSearch))
    assert _found(world, "officer", "ก่อนมีตาราง") == []
    world.khanton.upgrade_schema()  # khanton init
    assert _found(world, "officer", "ก่อนมีตาราง") == ["โอนงบก่อนมีตารางค้นหา"]
    with world.khanton.db.transaction(read_only=True) as session:
        assert len(session.scalars(select(InstanceSearch)).all()) == 1
