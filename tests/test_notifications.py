"""In-app notices made by the polling job, on a controlled clock: a new task tells the people of its
lane once, then "due soon" and "overdue" once each; the header counts the unread; reading clears it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from engine.models import Notification
from engine.time.firing import Poller
from tests.conftest import World
from tests.test_timers import start

T0 = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # Thursday 10:00 in Bangkok; "3 วันทำการ" is due Wed 9 Dec 16:30


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=True) as traveller:
        yield traveller


def notices(world: World) -> list[tuple[str, str]]:
    with world.khanton.db.transaction(read_only=True) as session:
        return sorted((u, k) for u, k in session.execute(select(Notification.username, Notification.kind)))


def test_notices_for_a_task_new_then_due_soon_then_overdue_each_once(any_world: World, clock: Any) -> None:
    world = any_world
    world.khanton.add_user("officer2", ["officer"], ["plan_officer"])
    start(world)
    poll = Poller(world.khanton.db)
    poll()
    poll()  # again: nothing doubles
    assert notices(world) == [("officer", "new"), ("officer2", "new")]  # the lane's people, not the head
    clock.move_to(datetime(2026, 12, 8, 10, 0, tzinfo=UTC))  # Tue 17:00 Bangkok: due within a day
    poll()
    # The task's 3-day reminder (a non-interrupting timer) fired too: its notice goes to the same people.
    assert notices(world) == [("officer", "due_soon"), ("officer", "new"), ("officer", "reminder"),
                              ("officer2", "due_soon"), ("officer2", "new"), ("officer2", "reminder")]
    clock.move_to(datetime(2026, 12, 9, 10, 0, tzinfo=UTC))
    Poller(world.khanton.db)()  # a restarted worker makes no second copy either
    Poller(world.khanton.db)()
    assert [k for u, k in notices(world) if u == "officer"] == ["due_soon", "new", "overdue", "reminder"]
