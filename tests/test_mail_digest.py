"""The daily digest, on a controlled clock: nothing before the configured hour (Bangkok time); from it,
one letter per person listing their due and overdue tasks with links, exactly once that day however many
workers poll and across restarts; again the next day; none for whoever opted out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from engine.notify import job, preferences
from engine.time.firing import Poller
from tests.conftest import World
from tests.test_mail import BASE, Inbox, _outbox, _set, smtp  # noqa: F401 - the module's SMTP server
from tests.test_timers import start

THU_0600 = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)  # Thursday 3 Dec 06:00 in Bangkok
THU_0705 = datetime(2026, 12, 3, 0, 5, tzinfo=UTC)
THU_1800 = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
FRI_0710 = datetime(2026, 12, 4, 0, 10, tzinfo=UTC)


@pytest.fixture
def mail_env(smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:  # noqa: F811
    received, port = smtp
    received.clear()
    job._digests_done.clear()  # noqa: SLF001
    for name, value in {"KHANTON_SMTP_HOST": "127.0.0.1", "KHANTON_SMTP_PORT": str(port),
                        "KHANTON_SMTP_STARTTLS": "0", "KHANTON_BASE_URL": BASE, "KHANTON_DIGEST_HOUR": "7"}.items():
        monkeypatch.setenv(name, value)
    yield received



def test_the_digest_goes_once_a_day_from_the_hour(world: World, mail_env: Inbox) -> None:
    world.khanton.add_user("officer2", ["officer"], ["plan_officer"])
    _set(world, "officer", "somchai@tak1.example", new=(True, False))  # only the digest by e-mail
    _set(world, "officer2", "somsri@tak1.example", new=(True, False), digest=(False, False))
    with time_machine.travel(THU_0600, tick=False) as clock:
        instance = start(world)  # "3 วันทำการ": due Wednesday 9 Dec 16:30
        task_id = instance["ready_tasks"][0]["id"]
        Poller(world.khanton.db)()
        assert mail_env.messages == []  # before 07:00 Bangkok
        clock.move_to(THU_0705)
        for _ in range(3):  # three workers, each restarted
            poller = Poller(world.khanton.db)
            job._digests_done.clear()  # noqa: SLF001
            poller()
        [letter] = mail_env.to("somchai@tak1.example")
        assert letter["Subject"] == "[ขั้นตอน] สรุปงานประจำวัน 3 ธ.ค. 2569: 1 งาน"
        body = letter.get_body().get_content()  # type: ignore[union-attr]
        assert "ตรวจเอกสาร" in body and f"{BASE}/tasks/{task_id}" in body and "กำหนดเสร็จ 9 ธ.ค. 2569 16:30" in body
        assert mail_env.to("somsri@tak1.example") == []  # opted out of the digest
        clock.move_to(THU_1800)
        job._digests_done.clear()  # noqa: SLF001
        Poller(world.khanton.db)()
        assert len(mail_env.to("somchai@tak1.example")) == 1  # still once that day
        clock.move_to(FRI_0710)
        Poller(world.khanton.db)()
        Poller(world.khanton.db)()
    assert [m["Subject"] for m in mail_env.to("somchai@tak1.example")][1] == \
        "[ขั้นตอน] สรุปงานประจำวัน 4 ธ.ค. 2569: 1 งาน"
    assert len(mail_env.to("somchai@tak1.example")) == 2
    assert [k for k, status, _n in _outbox(world) if k.startswith("digest:")] == \
        ["digest:officer:2026-12-03", "digest:officer:2026-12-04"]
    with world.khanton.db.transaction(read_only=True) as session:
        assert preferences.of(session, "officer2")["digest"].email is False


def test_three_workers_at_once_queue_one_digest_each(any_world: World, mail_env: Inbox) -> None:
    """Three processes (each its own connections, no shared memory) poll at the same moment after the hour."""
    import threading

    from engine.db import Database

    _set(any_world, "officer", "somchai@tak1.example", new=(True, False))
    with time_machine.travel(THU_0600, tick=False) as clock:
        start(any_world)
        clock.move_to(THU_0705)
        databases = [Database(any_world.khanton.db.url) for _ in range(3)]
        barrier = threading.Barrier(3)

        def work(db: Database) -> None:
            barrier.wait()
            Poller(db)()

        threads = [threading.Thread(target=work, args=(db,)) for db in databases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for db in databases:  # whoever lost a race queues nothing more on its next poll
            job._digests_done.clear()  # noqa: SLF001
            Poller(db)()
            db.dispose()
    assert len(mail_env.to("somchai@tak1.example")) == 1
    assert [k for k, status, _n in _outbox(any_world)] == ["digest:officer:2026-12-03"]
