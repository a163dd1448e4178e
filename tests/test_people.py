"""People and access in the engine: sign-in throttling by name and address, lanes as data (publishing
refuses an unknown lane), the audit trail, the password policy, token expiry, deactivation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from engine import signin
from engine.errors import InvalidDefinition, KhantonError
from engine.models import ApiToken, AuditEntry, Lane
from engine.people import passwords
from engine.people.audit import Who
from engine.people.office import People
from engine.roles import LANES
from engine.thai_calendar import thai_datetime
from tests.conftest import ROOT, World

ADMIN = Who("boss", "10.0.0.9")
HERE, ELSEWHERE = "10.0.0.1", "192.168.7.7"


def _people(world: World) -> People:
    return People(world.khanton.db)


def test_wrong_passwords_from_one_address_do_not_lock_the_person_out_elsewhere(any_world: World) -> None:
    khanton = any_world.khanton
    khanton.set_password("head", "right-horse-battery")
    for _ in range(signin.MAX_FAILURES):
        assert khanton.sign_in("head", "guess", HERE) is None
    with pytest.raises(signin.LockedOut) as locked:
        khanton.sign_in("head", "right-horse-battery", HERE)
    # The message says when to try again, on the Bangkok clock, in the Buddhist era.
    until = locked.value.until
    assert thai_datetime(until) in locked.value.message and str(until.year + 543) in locked.value.message
    assert timedelta(minutes=14) < until - datetime.now(UTC) <= signin.WINDOW
    # The colleague at their own desk signs in as usual.
    assert khanton.sign_in("head", "right-horse-battery", ELSEWHERE) is not None
    # ...and the stranger's address is still locked for that name.
    with pytest.raises(signin.LockedOut):
        khanton.sign_in("head", "right-horse-battery", HERE)


def test_one_address_guessing_across_names_is_refused_for_every_name(any_world: World) -> None:
    khanton = any_world.khanton
    khanton.set_password("officer", "right-horse-battery")
    names = [f"nobody{i}" for i in range(signin.MAX_ADDRESS_FAILURES)]
    for name in names:
        assert khanton.sign_in(name, "guess", HERE) is None
    with pytest.raises(signin.LockedOut):
        khanton.sign_in("officer", "right-horse-battery", HERE)
    assert khanton.sign_in("officer", "right-horse-battery", ELSEWHERE) is not None


def test_an_admin_unlocks_a_locked_name(world: World) -> None:
    world.khanton.set_password("head", "right-horse-battery")
    for _ in range(signin.MAX_FAILURES):
        world.khanton.sign_in("head", "guess", HERE)
    assert _people(world).access("head").person.locked_until is not None
    _people(world).unlock(ADMIN, "head")
    assert _people(world).access("head").person.locked_until is None
    assert world.khanton.sign_in("head", "right-horse-battery", HERE) is not None


def test_lanes_are_seeded_from_engine_roles_and_renamed_names_survive_init(world: World) -> None:
    people = _people(world)
    assert [lane.key for lane in people.lanes()][:len(LANES)] == list(LANES)
    people.rename_lane(ADMIN, "esa_board", "คณะกรรมการเขตพื้นที่การศึกษา")
    world.khanton.upgrade_schema()  # khanton init again: the seed never overwrites an admin's name
    assert people.lane_names()["esa_board"] == "คณะกรรมการเขตพื้นที่การศึกษา"
    with world.khanton.db.transaction(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Lane)) == len(LANES)


def test_a_lane_added_by_an_admin_is_known_to_users_and_an_outside_one_to_plan_officers(world: World) -> None:
    people = _people(world)
    people.add_lane(ADMIN, "finance_group", "กลุ่มบริหารงานการเงินและสินทรัพย์")
    people.add_lane(ADMIN, "audit_office", "สำนักงานการตรวจเงินแผ่นดิน", outside=True)
    world.khanton.add_user("somsri", ["officer"], ["finance_group"], "x" * 12)
    assert "finance_group" in world.khanton.actor("somsri").works_lanes
    assert "audit_office" in world.khanton.actor("officer").works_lanes  # a plan officer records its decisions
    assert "officer" in dict(world.khanton.colleagues("audit_office"))  # and may hand its task to another
    for bad, why in (("Finance", "ไม่ถูกต้อง"), ("finance_group", "มี lane รหัส finance_group อยู่แล้ว"),
                     ("x", "ไม่ถูกต้อง")):
        with pytest.raises(KhantonError, match=why):
            people.add_lane(ADMIN, bad, "ชื่อ")
    with pytest.raises(KhantonError, match="ต้องระบุชื่อ lane"):
        people.add_lane(ADMIN, "empty_name", "  ")
    with pytest.raises(KhantonError, match="lane ไม่ถูกต้อง: nowhere"):
        world.khanton.add_user("nobody", ["officer"], ["nowhere"])


def test_publishing_refuses_an_unknown_lane_and_says_how_to_add_it(world: World) -> None:
    xml = (ROOT / "tests" / "data" / "manual-in-lane.bpmn").read_text().replace(
        'lane id="plan_officer"', 'lane id="finance_group"')
    analyst = world.khanton.actor("analyst")
    with pytest.raises(InvalidDefinition) as refused:
        world.khanton.publish_xml("manual-in-lane", xml.encode(), analyst)
    message = refused.value.problems[0].message
    assert "finance_group" in message and "khanton lane add finance_group" in message and "/admin/lanes" in message
    _people(world).add_lane(ADMIN, "finance_group", "กลุ่มบริหารงานการเงินและสินทรัพย์")
    assert world.khanton.publish_xml("manual-in-lane", xml.encode(), analyst).version == 1


def test_every_change_is_audited_with_who_when_and_where_newest_first(world: World) -> None:
    people = _people(world)
    before = datetime.now(UTC)
    earlier = people.audit()[1]  # the world's procedures, published from files, are audited too
    temporary = people.add_user(ADMIN, "kanda", "นางกานดา ใจงาม", ["officer"], ["plan_officer"], None)
    people.update_user(ADMIN, "kanda", "นางกานดา ใจงาม", ["officer", "supervisor"], ["plan_officer"], None)
    people.update_user(ADMIN, "kanda", "นางกานดา ใจงาม", ["officer", "supervisor"], ["plan_officer"], None)
    people.change_own_password(Who("kanda", ELSEWHERE), temporary, "ต้นมะม่วงหน้าบ้าน", "ต้นมะม่วงหน้าบ้าน")
    people.set_active(ADMIN, "kanda", False)
    entries, total = people.audit(limit=3)
    assert total == earlier + 4  # the unchanged save recorded nothing
    assert [e.action for e in entries] == ["user_deactivated", "password_changed", "user_changed"]
    assert entries[2].detail == {"roles": [["officer"], ["officer", "supervisor"]]}
    assert entries[1].actor == "kanda" and entries[1].address == ELSEWHERE and entries[1].detail["after_reset"]
    assert entries[0].actor == "boss" and entries[0].address == "10.0.0.9" and entries[0].at >= before
    older, _ = people.audit(limit=3, offset=3)
    assert [e.action for e in older][:1] == ["user_added"]
    # A refused change leaves the record as it was.
    with pytest.raises(KhantonError):
        people.update_user(ADMIN, "kanda", "x", ["officer"], ["no_such_lane"], None)
    assert people.audit()[1] == earlier + 4


def test_the_password_policy_refuses_short_common_and_own_name(world: World) -> None:
    for name, password, why in (("somchai", "short1", "สั้นเกินไป"), ("somchai", "Password123", "เดาง่าย"),
                                ("somchai", "demo1234", "เดาง่าย"), ("somchai12", "SomChai12", "เดาง่าย"),
                                ("somchai", "x" * 129, "ยาวเกิน")):
        with pytest.raises(KhantonError, match=why):
            passwords.check_policy(name, password)
    passwords.check_policy("somchai", "ต้นมะม่วงหน้าบ้าน")


def test_changing_ones_password_checks_the_current_one_and_ends_other_sessions(world: World) -> None:
    people, khanton = _people(world), world.khanton
    khanton.set_password("officer", "old-pass-phrase")
    other = khanton.begin_web_session("officer", timedelta(hours=1))
    me = Who("officer")
    for current, new, repeat, why in (("wrong", "ต้นมะม่วงหน้าบ้าน", "ต้นมะม่วงหน้าบ้าน", "ปัจจุบันไม่ถูกต้อง"),
                                      ("old-pass-phrase", "ต้นมะม่วงหน้าบ้าน", "ต้นมะม่วง", "ไม่ตรงกัน"),
                                      ("old-pass-phrase", "qwerty123", "qwerty123", "เดาง่าย")):
        with pytest.raises(KhantonError, match=why):
            people.change_own_password(me, current, new, repeat)
    assert khanton.web_session_actor(other, timedelta(hours=1)) is not None  # refusals changed nothing
    people.change_own_password(me, "old-pass-phrase", "ต้นมะม่วงหน้าบ้าน", "ต้นมะม่วงหน้าบ้าน")
    assert khanton.web_session_actor(other, timedelta(hours=1)) is None
    assert khanton.sign_in("officer", "ต้นมะม่วงหน้าบ้าน") is not None


def test_a_reset_password_must_be_changed_and_signs_the_person_out(world: World) -> None:
    people, khanton = _people(world), world.khanton
    session_key = khanton.begin_web_session("head", timedelta(hours=1))
    temporary = people.reset_password(ADMIN, "head")
    assert khanton.web_session_actor(session_key, timedelta(hours=1)) is None
    assert people.must_change_password("head") and khanton.sign_in("head", temporary) is not None
    people.change_own_password(Who("head"), temporary, "ต้นมะม่วงหน้าบ้าน", "ต้นมะม่วงหน้าบ้าน")
    assert not people.must_change_password("head")


def test_tokens_expire_and_can_be_revoked(world: World) -> None:
    people, khanton = _people(world), world.khanton
    token = people.issue_token(ADMIN, "head", days=1)
    assert khanton.actor_for_token(token) is not None
    access = people.access("head")
    mine = access.tokens[-1]
    assert mine.expires_at is not None and not mine.expired
    with khanton.db.transaction() as session:
        session.execute(update(ApiToken).where(ApiToken.id == mine.id)
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert khanton.actor_for_token(token) is None
    assert people.access("head").tokens[-1].expired
    people.revoke_token(ADMIN, "head", mine.id)
    assert [t.id for t in people.access("head").tokens] == [t.id for t in access.tokens[:-1]]
    with pytest.raises(KhantonError, match="ไม่พบโทเค็น"):
        people.revoke_token(ADMIN, "officer", access.tokens[0].id)  # another person's token is not theirs
    with pytest.raises(KhantonError, match="อายุโทเค็น"):
        people.issue_token(ADMIN, "head", days=0)


def test_deactivating_ends_sessions_and_tokens_at_once(world: World) -> None:
    people, khanton = _people(world), world.khanton
    session_key = khanton.begin_web_session("head", timedelta(hours=1))
    token = world.tokens["head"]
    people.set_active(ADMIN, "head", False)
    assert khanton.web_session_actor(session_key, timedelta(hours=1)) is None
    assert khanton.actor_for_token(token) is None
    people.set_active(ADMIN, "head", True)
    assert khanton.actor_for_token(token) is None  # reactivating gives no token back
    assert people.access("head").tokens == []
    with pytest.raises(KhantonError, match="ของตนเอง"):
        people.set_active(Who("head"), "head", False)
    with world.khanton.db.transaction(read_only=True) as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action != "publish")
                                       .order_by(AuditEntry.id)))  # the world's procedures are audited too
    assert actions == ["user_deactivated", "user_activated"]
