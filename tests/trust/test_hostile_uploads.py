"""Hostile uploads: names that climb out of a folder, absolute and Windows paths, NUL and control
characters, reserved device names, a name of 1,000 characters, Unicode that normalizes to something
else, right-to-left overrides that disguise the extension; content that is not what the name says;
empty files, files over the limit, many files in one request. What is kept has a safe name, and
downloading serves it as an attachment of its checked type, with nosniff and a sandbox policy.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest

from engine.attachments import MAX_BYTES, TYPES
from tests import battery
from tests.conftest import World, WorldTemplate
from tests.drive import SIGNED_PDF

from .hostile_requests import module_world, signed_in

PDF = SIGNED_PDF
NAMES = [
    "../../../../etc/passwd.pdf", "..\\..\\..\\windows\\system32\\drivers\\etc\\hosts.pdf", "/etc/shadow.pdf",
    "C:\\Windows\\win.ini.pdf", "\\\\server\\share\\x.pdf", "..pdf", "....pdf", ".pdf", " .pdf", "a.pdf.",
    "a\x01b\x1fc\x7f.pdf", "a\tb\nc\r.pdf", "CON.pdf", "nul.pdf", "AUX.pdf", "COM1.pdf", "x" * 1000 + ".pdf",
    "ﬁle.pdf", "e\u0301te\u0301.pdf", "เอกสาร\u0e4d\u0e32.pdf", "report\u202excod.pdf", "สรุป\u200b\u200d\ufeff.pdf",
    "a<b>c:d\"e|f?g*h.pdf", "%2e%2e%2fetc%2fpasswd.pdf", "a;filename=evil.html;.pdf", "name\".pdf",
    "x.PDF", "\u2028\u2029.pdf", "\U0001f600.pdf",
]
WRONG_TYPES = [  # (name, content): refused, the name's type is not what the bytes are or is not accepted
    ("page.pdf", b"<html><script>alert(1)</script></html>"), ("page.html", PDF), ("image.svg", b"<svg onload=1/>"),
    ("letter.docx", PDF), ("photo.png", b"\xff\xd8\xff\xe0 a jpeg"), ("run.exe", b"MZ\x90\x00"),
    ("a.pdf.html", PDF), ("noextension", PDF), ("script.js", b"alert(1)"), ("x.pdf%00.html", PDF),
]
BIDI_AND_INVISIBLE = ("Cf", "Cc", "Zl", "Zp")


@pytest.fixture(scope="module")
def uploads(world_template: WorldTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    world = module_world(world_template, tmp_path_factory, "uploads")
    officer = world.api("officer")
    started = officer.post("/instances", {"process": "budget-transfer", "data": {"fiscal_year": 2570}}).json
    yield {"world": world, "task": started["ready_tasks"][0]["id"], "instance": started["id"]}
    world.close()


def _upload(world: World, task: str, name: str, content: bytes, **extra: Any) -> Any:
    api = world.api("officer")
    return api.client.post(f"/api/v1/tasks/{task}/attachments", headers=api.headers,
                           data={"file": (io.BytesIO(content), name), **extra})


def _assert_safe_name(stored: str, sent: str) -> None:
    assert stored and len(stored) <= 200, (sent, stored)
    assert not any(ch in stored for ch in "/\\\x00<>:\"|?*"), (sent, stored)
    assert not stored.startswith(".") and stored == stored.strip(), (sent, stored)
    assert unicodedata.normalize("NFC", stored) == stored, (sent, stored)
    hidden = [f"U+{ord(ch):04X}" for ch in stored if unicodedata.category(ch) in BIDI_AND_INVISIBLE]
    assert not hidden, f"{sent!r} kept as {stored!r}: invisible or direction-changing characters {hidden}"


def _assert_served_safely(world: World, attachment: dict[str, Any]) -> None:
    response = world.api("officer").get(f"/attachments/{attachment['id']}")
    assert response.status_code == 200 and response.get_data() == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;"), disposition
    assert "\r" not in disposition and "\n" not in disposition and disposition.isascii()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype in {t for t, _ in TYPES.values()}
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "private" in response.headers["Cache-Control"] or "no-store" in response.headers["Cache-Control"]


def test_hostile_file_names_are_kept_safe_and_served_as_attachments(uploads: dict[str, Any]) -> None:
    world: World = uploads["world"]
    for name in NAMES:
        response = _upload(world, uploads["task"], name, PDF)
        battery.add(battery.CASES)
        if response.status_code == 422:  # nothing of a type left once the name is cleaned: refused, in Thai
            assert response.json["error"]["details"][0]["field"] == "file", (name, response.json)
            battery.add(battery.REFUSED)
            continue
        assert response.status_code == 201, (name, response.status_code, response.json)
        _assert_safe_name(response.json["filename"], name)
        _assert_served_safely(world, response.json)
    # Every one of them is on the task page as text, under its cleaned name.
    page = signed_in(world, "officer")
    html = page.get(f"/tasks/{uploads['task']}").get_data(as_text=True)
    assert "passwd.pdf" in html and "../" not in html.split("passwd.pdf")[0][-20:]


def test_content_that_is_not_what_the_name_says_is_refused(uploads: dict[str, Any]) -> None:
    world: World = uploads["world"]
    for name, content in WRONG_TYPES:
        response = _upload(world, uploads["task"], name, content)
        assert response.status_code == 422, (name, response.status_code)
        message = response.json["error"]["details"][0]["message"]
        assert "ไฟล์" in message, message
        battery.add(battery.CASES)
        battery.add(battery.REFUSED)


def test_empty_missing_and_oversized_files_are_refused_in_thai(uploads: dict[str, Any]) -> None:
    world: World = uploads["world"]
    api = world.api("officer")
    before = len(api.get(f"/tasks/{uploads['task']}/attachments").json)
    empty = _upload(world, uploads["task"], "empty.pdf", b"")
    assert empty.status_code == 422 and "ว่างเปล่า" in empty.json["error"]["details"][0]["message"]
    missing = api.client.post(f"/api/v1/tasks/{uploads['task']}/attachments", headers=api.headers, data={})
    assert missing.status_code == 422
    over = _upload(world, uploads["task"], "big.pdf", PDF + b"0" * MAX_BYTES)
    assert over.status_code == 413 and "ไฟล์ใหญ่เกิน" in over.json["error"]["message"]
    far_over = _upload(world, uploads["task"], "huge.pdf", PDF + b"0" * (7 * 1024 * 1024))
    assert far_over.status_code == 413 and "ไฟล์ใหญ่เกิน" in far_over.json["error"]["message"]
    page = signed_in(world, "officer")
    page.get(f"/tasks/{uploads['task']}")
    through_page = page.client.post(f"/tasks/{uploads['task']}/attachments", data={
        "csrf_token": page.token(), "file": (io.BytesIO(PDF + b"0" * (7 * 1024 * 1024)), "huge.pdf")})
    assert through_page.status_code == 413
    assert "ข้อมูลที่ส่งมีขนาดใหญ่เกินกำหนด" in through_page.get_data(as_text=True)
    assert len(api.get(f"/tasks/{uploads['task']}/attachments").json) == before, "a refused file was kept"
    battery.add(battery.CASES, 5)
    battery.add(battery.REFUSED, 5)


def test_many_files_in_one_request_keep_one(uploads: dict[str, Any]) -> None:
    world: World = uploads["world"]
    api = world.api("officer")
    before = len(api.get(f"/tasks/{uploads['task']}/attachments").json)
    files = [(io.BytesIO(PDF), f"many-{i}.pdf") for i in range(40)]
    response = api.client.post(f"/api/v1/tasks/{uploads['task']}/attachments", headers=api.headers,
                               data={"file": files})
    assert response.status_code == 201 and response.json["filename"] == "many-0.pdf"
    assert len(api.get(f"/tasks/{uploads['task']}/attachments").json) == before + 1
    battery.add(battery.CASES)
