"""The command line for lanes and tokens: `khanton lane add`, `khanton token NAME [--days N]`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.people.office import People
from engine.service import Khanton
from tests.conftest import ROOT


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Khanton:
    """`khanton` in a fresh folder: its database is ./khanton.db, initialised."""
    from web.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("KHANTON_PROCESSES", str(ROOT / "processes"))
    monkeypatch.setenv("KHANTON_FORMS", str(ROOT / "forms"))
    assert main(["init"]) == 0
    return Khanton(f"sqlite:///{tmp_path / 'khanton.db'}")


def test_lane_add_adds_a_lane_users_can_be_given(cli: Khanton, capsys: pytest.CaptureFixture[str]) -> None:
    from web.cli import main

    capsys.readouterr()
    assert main(["lane", "add", "finance_group", "--name", "กลุ่มบริหารงานการเงินและสินทรัพย์"]) == 0
    assert main(["lane", "add", "audit_office", "--name", "สำนักงานการตรวจเงินแผ่นดิน", "--outside"]) == 0
    assert capsys.readouterr().out.splitlines() == ["lane finance_group added",
                                                     "lane audit_office added (outside body)"]
    people = People(cli.db)
    lanes = {lane.key: lane for lane in people.lanes()}
    assert lanes["finance_group"].name == "กลุ่มบริหารงานการเงินและสินทรัพย์" and not lanes["finance_group"].outside
    assert lanes["audit_office"].outside
    assert main(["user", "add", "somsri", "--role", "officer", "--lane", "finance_group"]) == 0
    entries, _ = people.audit()
    # `user add` is audited like the admin's page (it was not: #13 part 7).
    assert [e.action for e in entries if e.action != "publish"] == ["user_added", "lane_added", "lane_added"]
    assert entries[0].target == "somsri" and entries[0].actor.startswith("cli")
    # Refusals: one Thai line, exit 1, nothing stored.
    for args, why in ((["lane", "add", "finance_group", "--name", "ซ้ำ"], "มี lane รหัส finance_group อยู่แล้ว"),
                      (["lane", "add", "Bad Key", "--name", "ผิด"], "ไม่ถูกต้อง")):
        assert main(args) == 1
        err = capsys.readouterr().err
        assert why in err and "Traceback" not in err and err.count("\n") == 1
    assert len(people.lanes()) == len(lanes)
    cli.db.dispose()


def test_token_keeps_working_and_takes_days(cli: Khanton, capsys: pytest.CaptureFixture[str]) -> None:
    from web.cli import main

    assert main(["user", "add", "admin", "--role", "admin"]) == 0
    capsys.readouterr()
    assert main(["token", "admin"]) == 0
    plain = capsys.readouterr().out.strip()
    assert main(["token", "admin", "--days", "7"]) == 0
    week = capsys.readouterr().out.strip()
    assert cli.actor_for_token(plain) is not None and cli.actor_for_token(week) is not None
    tokens = People(cli.db).access("admin").tokens
    now = datetime.now(UTC)
    assert tokens[0].expires_at and timedelta(days=364) < tokens[0].expires_at - now <= timedelta(days=365)
    assert tokens[1].expires_at and timedelta(days=6) < tokens[1].expires_at - now <= timedelta(days=7)
    assert main(["token", "admin", "--days", "0"]) == 1
    assert "อายุโทเค็น 0 วันไม่ถูกต้อง" in capsys.readouterr().err
    cli.db.dispose()
