"""/instances/{id}/record.pdf: a budget transfer the governor returned once, then approved, printed as a
บันทึกข้อความ — its text (pdftotext) shows the memo's parts, Buddhist-era dates and Thai digits, every
decision with its document numbers, the return as a second round; A4, Laksaman (TH Sarabun's metrics)
embedded. Only those who may open the instance page may download it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.models import Instance
from engine.record.thai_text import memo_date, thai_digits
from engine.thai_calendar import bangkok
from tests.conftest import ROOT, USERS, World
from tests.drive import advance_to, scenario, start, step
from tests.web.conftest import PASSWORD, Page

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="pdftotext is missing: `make pdf` installs Debian's poppler-utils")

BOARD = {"reference": "ครั้งที่ 3/2569 วาระที่ 4.1", "decided_on": "2026-11-12"}
GOVERNOR_BACK = {"reference": "ตก 0017/4410", "decided_on": "2026-11-20", "note": "ขอให้ทบทวนวงเงินโครงการซ่อมแซม"}
GOVERNOR_YES = {"reference": "ตก 0017/4521", "decided_on": "2026-11-27"}


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict[str, Any], Path]]:
    world = World(f"sqlite:///{tmp_path_factory.mktemp('record') / 'khanton.db'}")
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    steps = scenario("budget-transfer")["steps"]
    instance = advance_to(world, start(world, "budget-transfer"), "board_approval")
    _, instance = step(world, instance, steps=steps | {"board_approval": BOARD})
    instance = advance_to(world, instance, "governor_approval")
    _, instance = step(world, instance, decision="returned", steps=steps | {"governor_approval": GOVERNOR_BACK})
    instance = advance_to(world, instance, "board_approval")
    _, instance = step(world, instance, steps=steps | {"board_approval": BOARD})
    instance = advance_to(world, instance, "governor_approval")
    _, instance = step(world, instance, steps=steps | {"governor_approval": GOVERNOR_YES})
    for _ in range(20):
        if not instance["ready_tasks"]:
            break
        _, instance = step(world, instance)
    assert instance["status"] == "completed"
    page = Page(world.app.test_client())
    assert page.sign_in("officer").status_code == 302
    response = page.client.get(f"/instances/{instance['id']}/record.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    folder = tmp_path_factory.mktemp("pdf")
    pdf = folder / "record.pdf"
    pdf.write_bytes(response.get_data())
    yield world, instance, pdf
    world.close()


# Text read back from a PDF loses the order of Thai marks above and below the line (a tone mark is placed
# by the font, not kept after its vowel): compare letters and digits, the marks and spaces left out.
MARKS = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\\s]")


def bare(text: str) -> str:
    return MARKS.sub("", text.replace("\u0e33", "\u0e32"))


def _text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, text=True)
    return bare(out.stdout)


def test_the_memo_says_what_was_decided_by_whom_when_with_which_numbers(printed: tuple[World, dict[str, Any], Path]
                                                                       ) -> None:
    world, instance, pdf = printed
    text = _text(pdf)

    def count(words: str) -> int:
        return text.count(bare(words))

    for part in ("บันทึกข้อความ", "ส่วนราชการ", "กลุ่มนโยบายและแผน", "ที่ ศธ ๐๔๑๗๓/", "วันที่", "เรื่อง", "เรียน",
                 "จึงเรียนมาเพื่อโปรดทราบ", "(ลงชื่อ)", thai_digits(scenario("budget-transfer")["start"]["title"])):
        assert count(part), part
    # The board's resolution and its date, twice (before and after the return), in Thai digits, BE.
    assert count("ครั้งที่ ๓/๒๕๖๙ วาระที่ ๔.๑") == 2
    assert count("วันที่พิจารณา: ๑๒ พฤศจิกายน ๒๕๖๙") == 2
    # The governor returned it (with why), then approved it: a second round.
    assert count("ตก ๐๐๑๗/๔๔๑๐") == 1 and count("ส่งกลับแก้ไข") == 1
    assert count("ขอให้ทบทวนวงเงินโครงการซ่อมแซม") == 1
    assert count("ตก ๐๐๑๗/๔๕๒๑") == 1 and count("๒๗ พฤศจิกายน ๒๕๖๙") == 1 and count("(รอบที่ ๒)") >= 2
    assert count("เห็นชอบ / อนุมัติ") >= 3
    assert count("มติ-governor_approval.pdf") == 2  # the signed document attached to each decision
    # Dated the day it ended, BE.
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.get(Instance, instance["id"])
        assert row is not None and row.ended_at is not None
        assert count(f"ที่ ศธ ๐๔๑๗๓/ วันที่ {memo_date(bangkok(row.ended_at).date())}") == 1
    # No Arabic digit in the memo's own lines (the page footer names the instance's id).
    memo_body = text.split(bare("พิมพ์จากระบบ"))[0].replace("school2", "")  # a test user without a name
    assert not re.search(r"[0-9]", memo_body), memo_body


def test_a4_sarabun_and_a_rendered_page(printed: tuple[World, dict[str, Any], Path]) -> None:
    _, _, pdf = printed
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True).stdout
    assert re.search(r"Page size: +595.2\d* x 841.8\d* pts \(A4\)", info), info
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, check=True, text=True).stdout
    assert "Laksaman" in fonts and "Laksaman-Bold" in fonts  # TH Sarabun's metrics, embedded
    folder = ROOT / "docs" / "screenshots" if os.environ.get("KHANTON_SCREENSHOTS") == "docs" else pdf.parent
    target = folder / "record-pdf-page1"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(target)],
                   check=True)
    png = target.with_suffix(".png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert abs(height / width - 297 / 210) < 0.01


def test_only_those_who_may_open_the_instance_download_it(printed: tuple[World, dict[str, Any], Path]) -> None:
    world, instance, _ = printed
    path = f"/instances/{instance['id']}/record.pdf"
    for name, status in (("supervisor", 200), ("director", 200), ("outsider", 403)):
        page = Page(world.app.test_client())
        page.sign_in(name)
        response = page.client.get(path)
        assert response.status_code == status, name
        if status == 403:
            assert "ไม่มีสิทธิ์ดูกระบวนงานนี้" in response.get_data(as_text=True)
        else:
            assert response.get_data()[:5] == b"%PDF-"
    page = Page(world.app.test_client())
    assert page.get(path).status_code == 302  # to the sign-in page
    page.sign_in("supervisor")
    assert page.get("/instances/no-such-instance/record.pdf").status_code == 404
    assert "ไม่พบกระบวนงาน" in page.html
    assert page.get("/instances/" + "x" * 300 + "/record.pdf").status_code == 404
    page.get(f"/instances/{instance['id']}")
    assert f'href="{path}"' in page.html and "พิมพ์บันทึกข้อความ (PDF)" in page.html
