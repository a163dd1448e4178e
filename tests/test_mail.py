"""Notices by e-mail, received by a local SMTP server the test starts (aiosmtpd): the people who see a
task get one letter per notice, with a Thai subject and a link to the task; whoever opted out gets none;
a returned task is announced with its reason; a failure is retried later and nothing is sent twice, even
with several workers at once; `khanton mail test` says in Thai what failed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope
from sqlalchemy import func, select

from engine.errors import KhantonError
from engine.models import MailOut, Notification
from engine.notify import inbox, job, mail, outbox, preferences
from engine.time.firing import Poller
from tests.conftest import World
from tests.drive import data_for, user_for
from tests.test_rounds import _at_board
from tests.test_timers import start
from web.cli import main

EARLY = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)  # Thursday 06:00 in Bangkok: before the digest's hour
BASE = "https://khanton.tak1.example"


class Inbox:
    """What the SMTP server received: one parsed message per recipient."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content if isinstance(envelope.content, bytes) else b"",
                                    policy=policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt, parsed))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for rcpt, m in self.messages if rcpt == address]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield received, controller.port
    controller.stop()


@pytest.fixture
def mail_on(smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    received, port = smtp
    received.clear()
    job._digests_done.clear()  # noqa: SLF001 - each test is a fresh process
    for name, value in {"KHANTON_SMTP_HOST": "127.0.0.1", "KHANTON_SMTP_PORT": str(port),
                        "KHANTON_SMTP_STARTTLS": "0", "KHANTON_SMTP_FROM": "khanton@tak1.example",
                        "KHANTON_BASE_URL": BASE, "KHANTON_DIGEST_HOUR": "7"}.items():
        monkeypatch.setenv(name, value)
    with time_machine.travel(EARLY, tick=True):
        yield received


def _set(world: World, username: str, address: str, **chosen: tuple[bool, bool]) -> None:
    with world.khanton.db.transaction() as session:
        preferences.set_email(session, username, address)
        if chosen:
            mine = {k: (c.in_app, c.email) for k, c in preferences.of(session, username).items()}
            preferences.save(session, username, {**mine, **chosen})


def _outbox(world: World) -> list[tuple[str, str, int]]:
    with world.khanton.db.transaction(read_only=True) as session:
        return sorted((r.key, r.status, r.attempts) for r in session.scalars(select(MailOut)))


def test_a_new_task_is_mailed_once_to_its_lane_and_not_to_who_opted_out(world: World, mail_on: Inbox) -> None:
    world.khanton.add_user("officer2", ["officer"], ["plan_officer"])
    _set(world, "officer", "somchai@tak1.example")
    _set(world, "officer2", "somsri@tak1.example", new=(False, False))  # neither in-app nor e-mail
    _set(world, "head", "head@tak1.example")  # not of the lane: nothing
    instance = start(world)
    task_id = instance["ready_tasks"][0]["id"]
    Poller(world.khanton.db)()
    Poller(world.khanton.db)()  # a second worker, or the next poll: nothing is sent twice
    [letter] = mail_on.to("somchai@tak1.example")
    assert letter["Subject"] == "[ขั้นตอน] งานใหม่: ตรวจเอกสาร"
    assert letter["To"] == "somchai@tak1.example" and "khanton@tak1.example" in letter["From"]
    body = letter.get_body().get_content()  # type: ignore[union-attr]
    assert f"{BASE}/tasks/{task_id}" in body and "มีงานใหม่ในความรับผิดชอบของท่าน" in body
    assert mail_on.to("somsri@tak1.example") == [] and mail_on.to("head@tak1.example") == []
    assert len(mail_on.messages) == 1
    assert _outbox(world) == [(f"notice:officer:{task_id}:new", "sent", 1)]
    with world.khanton.db.transaction(read_only=True) as session:
        # officer2's notice is made (so it is not made again) but not shown
        assert [n.kind for n in inbox.listing(session, "officer2")] == []
        assert inbox.unread(session, "officer2") == 0
        assert [n.kind for n in inbox.listing(session, "officer")] == ["new"]
        assert session.scalar(select(func.count()).select_from(Notification)) == 2


def test_no_mail_at_all_while_no_server_is_set(world: World, smtp: tuple[Inbox, int],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    smtp[0].clear()
    monkeypatch.delenv("KHANTON_SMTP_HOST", raising=False)
    _set(world, "officer", "somchai@tak1.example")
    start(world)
    Poller(world.khanton.db)()
    assert _outbox(world) == [] and smtp[0].messages == []
    with world.khanton.db.transaction(read_only=True) as session:
        assert [n.kind for n in inbox.listing(session, "officer")] == ["new"]


def test_a_returned_task_is_noticed_in_app_and_mailed_with_its_reason(any_world: World, mail_on: Inbox) -> None:
    instance, task = _at_board(any_world)
    board_user = user_for(instance["ready_tasks"][0])
    data = {**data_for(task, {}, "returned"), "note": "ยอดโอนรายการที่ 2 เกินวงเงิน"}
    assert any_world.api(board_user).post(f"/tasks/{task['id']}/complete", json={"data": data}).status_code == 200
    back = any_world.api("officer").get(f"/instances/{instance['id']}").get_json()["ready_tasks"][0]
    who = user_for(back)
    _set(any_world, who, "back@tak1.example")
    Poller(any_world.khanton.db)()
    with any_world.khanton.db.transaction(read_only=True) as session:
        kinds = {(n.task_id, n.kind) for n in inbox.listing(session, who)}
    assert (back["id"], "returned") in kinds and (back["id"], "new") not in kinds
    letters = [m for m in mail_on.to("back@tak1.example") if "ส่งกลับ" in m["Subject"]]
    assert len(letters) == 1 and letters[0]["Subject"].startswith("[ขั้นตอน] งานถูกส่งกลับให้แก้ไข: ")
    body = letters[0].get_body().get_content()  # type: ignore[union-attr]
    assert "เหตุผลที่ส่งกลับ: ยอดโอนรายการที่ 2 เกินวงเงิน" in body and f"{BASE}/tasks/{back['id']}" in body


def test_a_failure_is_retried_later_and_sent_once(world: World, mail_on: Inbox,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _set(world, "officer", "somchai@tak1.example")
    with time_machine.travel(EARLY, tick=False) as clock:
        right_port = mail.settings().port
        monkeypatch.setenv("KHANTON_SMTP_PORT", str(_free_port()))  # nothing listens there
        instance = start(world)
        Poller(world.khanton.db)()  # the server is down: the app goes on, the letter waits
        key = f"notice:officer:{instance['ready_tasks'][0]['id']}:new"
        assert _outbox(world) == [(key, "pending", 1)]
        with world.khanton.db.transaction(read_only=True) as session:
            assert "ติดต่อเซิร์ฟเวอร์อีเมล" in (session.scalar(select(MailOut.error)) or "")
        monkeypatch.setenv("KHANTON_SMTP_PORT", str(right_port))
        Poller(world.khanton.db)()  # too early for the next try
        assert _outbox(world) == [(key, "pending", 1)] and mail_on.messages == []
        clock.shift(outbox.wait_after(1) + timedelta(seconds=1))
        Poller(world.khanton.db)()
        Poller(world.khanton.db)()
    assert _outbox(world) == [(key, "sent", 2)] and len(mail_on.to("somchai@tak1.example")) == 1


def test_letters_of_a_worker_that_died_mid_send_are_sent_when_its_lease_runs_out(world: World,
                                                                               mail_on: Inbox) -> None:
    with time_machine.travel(EARLY, tick=False) as clock:
        with world.khanton.db.transaction() as session:
            session.add(MailOut(key="test:lost", username="officer", address="p@tak1.example",
                                subject="ทดสอบ", body="ทดสอบ", status=outbox.PENDING, attempts=0))
        claimed = outbox._claim(world.khanton.db, datetime.now(UTC), "died")  # noqa: SLF001 - then it dies
        assert [attempts for _id, _letter, attempts in claimed] == [1]
        assert outbox.send_due(world.khanton.db, mail.settings(), "alive") == 0  # its lease still holds
        clock.shift(outbox.LEASE + timedelta(seconds=1))
        assert outbox.send_due(world.khanton.db, mail.settings(), "alive") == 1
    assert _outbox(world) == [("test:lost", "sent", 2)] and len(mail_on.to("p@tak1.example")) == 1


def test_several_workers_send_each_letter_once(any_world: World, mail_on: Inbox) -> None:
    config = mail.settings()
    with any_world.khanton.db.transaction() as session:
        session.add_all(MailOut(key=f"test:{i}", username="officer", address=f"p{i}@tak1.example",
                                subject=f"ทดสอบ {i}", body="ทดสอบ", status=outbox.PENDING, attempts=0)
                        for i in range(120))
    sent: list[int] = []

    def work(name: str) -> None:
        for _ in range(6):
            sent.append(outbox.send_due(any_world.khanton.db, config, name))

    workers = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sum(sent) == 120
    assert sorted(rcpt for rcpt, _m in mail_on.messages) == sorted(f"p{i}@tak1.example" for i in range(120))
    assert {status for _k, status, _n in _outbox(any_world)} == {"sent"}


def test_addresses_are_checked(world: World) -> None:
    for hostile in ("somchai", "a@b", "a@b.c\r\nBcc: x@y.z", "ก@ข.ค", "x" * 250 + "@a.bc", "<a@b.c>"):
        with pytest.raises(KhantonError) as refused:
            _set(world, "officer", hostile)
        assert "อีเมล" in refused.value.message
    with world.khanton.db.transaction(read_only=True) as session:
        assert preferences.email_of(session, "officer") is None
    _set(world, "officer", "  somchai.k+plan@tak1.go.th ")
    _set(world, "head", "")
    with world.khanton.db.transaction(read_only=True) as session:
        assert preferences.email_of(session, "officer") == "somchai.k+plan@tak1.go.th"
        assert preferences.email_of(session, "head") is None


def test_the_mail_test_command(mail_on: Inbox, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mail", "test", "admin@tak1.example"]) == 0
    [letter] = mail_on.to("admin@tak1.example")
    assert letter["Subject"] == "ทดสอบการส่งอีเมลจากระบบขั้นตอน (Khanton)"
    assert "ส่งอีเมลทดสอบถึง admin@tak1.example" in capsys.readouterr().out
    monkeypatch.setenv("KHANTON_SMTP_PORT", str(_free_port()))
    assert main(["mail", "test", "admin@tak1.example"]) == 1
    assert "ติดต่อเซิร์ฟเวอร์อีเมล 127.0.0.1:" in capsys.readouterr().err
    monkeypatch.delenv("KHANTON_SMTP_HOST")
    assert main(["mail", "test", "admin@tak1.example"]) == 1
    assert "ยังไม่ได้ตั้งค่าเซิร์ฟเวอร์อีเมล" in capsys.readouterr().err


def test_the_mail_test_command_says_when_the_password_is_refused(mail_on: Inbox, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    strict = Controller(Inbox(), hostname="127.0.0.1", port=_free_port(), authenticator=refuse,
                        auth_require_tls=False)
    strict.start()
    try:
        monkeypatch.setenv("KHANTON_SMTP_PORT", str(strict.port))
        monkeypatch.setenv("KHANTON_SMTP_USER", "khanton")
        monkeypatch.setenv("KHANTON_SMTP_PASSWORD", "wrong")
        assert main(["mail", "test", "admin@tak1.example"]) == 1
    finally:
        strict.stop()
    assert "ไม่ยอมรับชื่อผู้ใช้หรือรหัสผ่าน" in capsys.readouterr().err


def test_a_subject_with_line_breaks_is_one_line_and_settings_fall_back_to_defaults() -> None:
    built = mail.message(mail.Settings(host="x"), mail.Letter("a@tak1.example", "งาน\r\nBcc: x@y.z  ใหม่", "ทดสอบ"))
    assert built["Subject"] == "งาน Bcc: x@y.z ใหม่" and built["Bcc"] is None
    odd = mail.settings({"KHANTON_SMTP_HOST": " smtp.tak1.example ", "KHANTON_SMTP_PORT": "99999",
                         "KHANTON_DIGEST_HOUR": "25", "KHANTON_SMTP_SSL": "yes"})
    assert (odd.host, odd.port, odd.digest_hour, odd.ssl, odd.starttls) == ("smtp.tak1.example", 465, 7, True, False)
    assert not mail.settings({}).enabled
