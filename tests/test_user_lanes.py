"""Each user's lanes are rows of user_lanes: migration 0005 moves the JSON lists of a populated
database there (keeping everything that hangs off users), and the engine reads and queries them."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import inspect, select, text

from engine.db import Database
from engine.migrate import alembic_config
from engine.models import User, UserLane
from tests.conftest import World, make_khanton


def _at_0004(url: str) -> None:
    db = Database(url)
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    db.dispose()


def test_migration_moves_lanes_of_existing_users_and_keeps_their_tokens(database_url: str) -> None:
    _at_0004(database_url)
    db = Database(database_url)
    with db.engine.begin() as conn:
        for name, lanes in (("anan", ["plan_officer", "committee"]), ("boon", ["school"]), ("chai", []),
                            ("dao", ["plan_head", "plan_head"])):
            conn.execute(text("insert into users (username, display_name, roles, lanes, active, created_at) "
                              "values (:u, :u, :r, :l, :a, current_timestamp)"),
                         {"u": name, "r": json.dumps(["officer"]), "l": json.dumps(lanes), "a": True})
        anan = conn.execute(text("select id from users where username = 'anan'")).scalar_one()
        conn.execute(text("insert into api_tokens (user_id, token_hash, created_at) "
                          "values (:id, :h, current_timestamp)"), {"id": anan, "h": "a" * 64})
    db.dispose()

    khanton = make_khanton(database_url)  # upgrades to the head: 0005 and whatever follows
    try:
        with khanton.db.transaction(read_only=True) as session:
            rows = session.execute(text("select u.username, l.lane from user_lanes l join users u on u.id = l.user_id "
                                        "order by u.username, l.lane")).all()
            tokens = session.execute(text("select count(*) from api_tokens")).scalar_one()
            columns = {c["name"] for c in inspect(session.connection()).get_columns("users")}
        assert [tuple(r) for r in rows] == [("anan", "committee"), ("anan", "plan_officer"), ("boon", "school"),
                                            ("dao", "plan_head")]
        assert tokens == 1, "the users table was rebuilt and its tokens cascaded away"
        assert "lanes" not in columns
        assert khanton.actor("anan").lanes == frozenset({"plan_officer", "committee"})
        assert khanton.actor("chai").lanes == frozenset()
    finally:
        khanton.db.dispose()


def test_lanes_are_rows_and_who_works_a_lane_is_a_query(world: World) -> None:
    khanton = world.khanton
    khanton.add_user("somchai", ["officer"], ["plan_officer", "committee", "plan_officer"])
    with khanton.db.transaction(read_only=True) as session:
        lanes = session.scalars(select(UserLane.lane).join(User, User.id == UserLane.user_id).where(
            User.username == "somchai").order_by(UserLane.lane)).all()
    assert lanes == ["committee", "plan_officer"]
    assert khanton.actor("somchai").works_lanes >= {"plan_officer", "committee", "esa_board"}
    # Colleagues of a lane come from user_lanes: a plan officer records outside bodies' decisions.
    assert ("somchai", "somchai") in khanton.colleagues("esa_board")
    assert "somchai" in {name for name, _ in khanton.colleagues("committee")}
    assert "somchai" not in {name for name, _ in khanton.colleagues("esa_director")}
