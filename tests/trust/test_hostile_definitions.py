"""Trust battery, part 1 (#13): hostile definitions through every door that takes a definition.

Each case of tests/trust/hostile.py goes through every door: PUT /api/v1/processes/{key}/bpmn, a draft
saved / validated / published through the API, the editor's publish, the import API and the import
page. At each door it must be refused with a Thai message that says what and where, within
DOOR_SECONDS and DOOR_BYTES of memory (tracemalloc's peak), with no version made and no draft changed;
only where drafts are kept (draft save, import) may a readable definition with a forbidden part be
kept as a new draft, and then nothing of it runs. While a hostile publish is being checked, another
user's inbox is answered promptly.
"""

from __future__ import annotations

import html
import io
import json
import resource
import threading
import time
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import expressions
from engine.models import Instance, ProcessDraft, ProcessVersion
from tests import battery
from tests.conftest import PASSWORD, World, _fresh_postgres
from tests.trust import hostile
from tests.trust.hostile import KEY, NOT_BPMN, REFUSED_DEFINITION, UNREADABLE, Case
from tests.web.conftest import Page

DOOR_SECONDS = 2.0
PARSED_SECONDS = 5.0  # a definition that passes our checks is parsed by SpiffWorkflow in a child process
DOOR_BYTES = 64 * 1024 * 1024  # Python's own allocations at one door; a 5 MB body is copied a few times
THAI = range(0x0E00, 0x0E80)


def battery_world(url: str) -> World:
    """A world without the office's procedures (each door reads every published version: fewer is faster),
    and one version of the procedure the cases are drafts of."""
    w = World(url, load=False)
    w.khanton.set_password("analyst", PASSWORD)
    w.khanton.set_password("officer", PASSWORD)
    response = w.api("analyst").put(f"/processes/{KEY}/bpmn", data=hostile.plain().encode(),
                                    content_type="application/xml")
    assert response.status_code == 201, response.get_data(as_text=True)
    return w


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = battery_world(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'khanton.db'}")
    yield w
    w.close()


def analyst_page(world: World) -> Page:
    signed_in = Page(world.app.test_client())
    assert signed_in.sign_in("analyst").status_code == 302
    signed_in.get("/processes/import")
    return signed_in


@pytest.fixture(scope="module")
def page(world: World) -> Page:
    return analyst_page(world)


# --- what is stored ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    versions: tuple[tuple[str, int, str], ...]
    drafts: tuple[tuple[int, str, int, str], ...]
    instances: int


def stored(world: World) -> Stored:
    """Every version (its content hash), every draft (drafts are never updated: its id, procedure, the
    length of its XML and its note), the number of instances."""
    with world.khanton.db.transaction(read_only=True) as session:
        versions = tuple((r[0], r[1], r[2]) for r in session.execute(
            select(ProcessVersion.key, ProcessVersion.version, ProcessVersion.content_hash)
            .order_by(ProcessVersion.id)))
        drafts = tuple((r[0], r[1], r[2], r[3]) for r in session.execute(
            select(ProcessDraft.id, ProcessDraft.key, func.length(ProcessDraft.xml), ProcessDraft.note)
            .order_by(ProcessDraft.id)))
        instances = int(session.scalar(select(func.count()).select_from(Instance)) or 0)
    return Stored(versions, drafts, instances)


def keep_draft(world: World, case: Case) -> int:
    """A draft holding the case as it would be if it had been stored before today's checks."""
    with world.khanton.db.transaction() as session:
        row = ProcessDraft(key=KEY, author="analyst", xml=case.as_text(), forms=case.forms, note="")
        session.add(row)
        session.flush()
        return row.id


# --- the doors --------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    messages: list[str]
    elements: list[str | None]
    lines: list[int | None]
    draft: int | None = None  # a draft the door kept


def _api_answer(response: Any) -> Answer:
    body = response.get_json(silent=True) or {}
    if "error" in body:
        error = body["error"]
        details = [d for d in (error.get("details") or []) if isinstance(d, dict)]
        return Answer(response.status_code, [error["message"], *(d.get("message", "") for d in details)],
                      [d.get("element") for d in details], [d.get("line") for d in details])
    problems = body.get("problems", [])
    return Answer(response.status_code, [p["message"] for p in problems], [p["element"] for p in problems],
                  [p["line"] for p in problems], draft=body.get("draft") or body.get("id"))


def _headers(world: World, case: Case) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {world.tokens['analyst']}"}
    if case.name.startswith("gzip"):
        headers["Content-Encoding"] = "gzip"
    return headers


def put(world: World, page: Page, case: Case) -> Answer:
    return _api_answer(world.app.test_client().put(f"/api/v1/processes/{KEY}/bpmn", data=case.as_bytes(),
                                                   headers=_headers(world, case), content_type="application/xml"))


def draft_save(world: World, page: Page, case: Case) -> Answer:
    response = world.api("analyst").post(f"/processes/{KEY}/drafts", json={"xml": case.as_text(), "forms": case.forms})
    answer = _api_answer(response)
    return answer


def validate(world: World, page: Page, case: Case) -> Answer:
    return _api_answer(world.api("analyst").post(f"/processes/{KEY}/validate",
                                                 json={"xml": case.as_text(), "forms": case.forms}))


def editor_publish(world: World, page: Page, case: Case) -> Answer:
    response = page.client.post(f"/processes/{KEY}/edit/publish", json={"xml": case.as_text(), "forms": case.forms},
                                headers={"X-CSRFToken": page.token()})
    return _api_answer(response)


def draft_publish(world: World, page: Page, case: Case, draft_id: int = 0) -> Answer:
    return _api_answer(world.api("analyst").post(f"/processes/{KEY}/drafts/{draft_id}/publish", json={}))


def import_api(world: World, page: Page, case: Case) -> Answer:
    response = world.app.test_client().post(
        "/api/v1/processes/import", headers=_headers(world, case), content_type="multipart/form-data",
        data={"key": KEY, "file": (io.BytesIO(case.as_bytes()),
                                   "hostile.bpmn.gz" if case.name.startswith("gzip") else "h.bpmn")})
    return _api_answer(response)


def import_page(world: World, page: Page, case: Case) -> Answer:
    token = page.token()
    response = page.client.post("/processes/import", content_type="multipart/form-data", data={
        "csrf_token": token, "key": KEY, "file": (io.BytesIO(case.as_bytes()), "h.bpmn")})
    text = html.unescape(response.get_data(as_text=True))
    if response.status_code == 303:
        return Answer(303, [], [], [], draft=int(response.headers["Location"].rsplit("/", 1)[1]))
    start = text.find('id="import-error">')
    shown = text[start:text.find("</div>", start)] if start >= 0 else ""
    return Answer(response.status_code, [shown], [], [])


Door = Callable[[World, Page, Case], Answer]
TEXT_DOORS: dict[str, Door] = {"draft save": draft_save, "validate": validate, "editor publish": editor_publish,
                               "draft publish": draft_publish}
BYTE_DOORS: dict[str, Door] = {"PUT bpmn": put, "import API": import_api, "import page": import_page}
FIELD_DOORS = {"draft save", "editor publish", "validate"}  # a draft that cannot be read is refused as a field: xml
KEEPS_DRAFTS = {REFUSED_DEFINITION: {"draft save", "import API", "import page"}, NOT_BPMN: {"draft save"},
                UNREADABLE: set()}


@dataclass
class Measured:
    answer: Answer
    seconds: float
    peak: int


def through(door: Door, world: World, page: Page, case: Case, traced: bool, **kw: Any) -> Measured:
    """The door's answer, its wall-clock time and (`traced`) the peak of Python's allocations in it.
    Tracing slows everything several times, so a case is traced at its first door only; the process's
    peak resident size over the whole battery is bounded as well (test_memory_stayed_bounded)."""
    if traced:
        tracemalloc.start()
    try:
        started = time.perf_counter()
        answer = door(world, page, case, **kw)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
    finally:
        tracemalloc.stop()
    return Measured(answer, seconds, peak)


@pytest.fixture(scope="module")
def traced() -> int:
    """The process's peak resident size (kB) before the battery."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@pytest.fixture(autouse=True)
def nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """No door runs an analyst's expression or script: they are only checked."""
    def refuse(*args: Any, **kw: Any) -> Any:
        raise AssertionError(f"an expression was run: {args[:1]!r:.80}")
    monkeypatch.setattr(expressions, "evaluate", refuse)
    monkeypatch.setattr(expressions, "execute", refuse)


def thai(message: str) -> bool:
    return any(ord(c) in THAI for c in message)


def says(answer: Answer, case: Case) -> str:
    return f"{case.name}: {answer.status} {[m[:160] for m in answer.messages][:4]} {answer.elements[:4]}"


def check_refused(door: str, answer: Answer, case: Case) -> None:
    """Refused, in Thai, saying what (the case's words) and where (its element or line)."""
    if door == "validate":
        assert answer.status in (200, 413, 422), says(answer, case)
        assert answer.messages, says(answer, case)
    elif door == "import page":
        assert answer.status in (413, 422), says(answer, case)
    else:
        assert answer.status in (413, 415, 422), says(answer, case)
    assert answer.messages and all(thai(m) for m in answer.messages if m), says(answer, case)
    text = " ".join(answer.messages)
    if case.words:
        assert any(w.lower() in text.lower() for w in case.words), says(answer, case)
    if case.element and door != "import page":
        assert case.element in answer.elements or door in FIELD_DOORS, says(answer, case)
    if case.line and door != "import page":
        assert case.line in answer.lines or f"บรรทัด {case.line}" in text, says(answer, case)
    battery.add(battery.REFUSED)


def check_kept(door: str, answer: Answer, case: Case) -> None:
    """A readable definition with a forbidden part kept as a draft (never run), its problem listed."""
    assert answer.status in (201, 303) and answer.draft, says(answer, case)
    if door == "import API" and case.element:
        assert case.element in answer.elements, says(answer, case)


def run_case(world: World, page: Page, case: Case) -> None:
    doors = {**BYTE_DOORS, **(TEXT_DOORS if case.text_doors else {})}
    if case.forms:  # forms travel only with drafts: the byte doors would read the forms folder instead
        doors = TEXT_DOORS.copy()
    for number, (name, door) in enumerate(doors.items()):
        kw: dict[str, Any] = {}
        if name == "draft publish":
            if "\x00" in case.as_text() and world.khanton.db.engine.dialect.name == "postgresql":
                continue  # PostgreSQL text cannot hold NUL: no such draft can have been stored there
            kw["draft_id"] = keep_draft(world, case)
        before = stored(world)
        traced = number == 0 and (case.kind != REFUSED_DEFINITION or "bomb" in case.name)  # memory matters there
        measured = through(door, world, page, case, traced, **kw)
        battery.add(battery.CASES)
        after = stored(world)
        answer = measured.answer
        bound = PARSED_SECONDS if case.parsed else DOOR_SECONDS
        assert measured.seconds < bound, f"{name}: {case.name} took {measured.seconds:.2f} s"
        assert measured.peak < DOOR_BYTES, f"{name}: {case.name} took {measured.peak / 2**20:.0f} MB"
        assert after.versions == before.versions, f"{name}: {case.name} made a version"
        assert after.instances == before.instances, f"{name}: {case.name} started an instance"
        if name in KEEPS_DRAFTS[case.kind] and answer.status in (201, 303):
            check_kept(name, answer, case)
            assert after.drafts[:-1] == before.drafts and after.drafts[-1][0] == answer.draft, name
            continue
        check_refused(name, answer, case)
        assert after.drafts == before.drafts, f"{name}: {case.name} changed the drafts"


def _ids(cases: list[Case]) -> list[str]:
    return [c.name[:70] for c in cases]


@pytest.mark.parametrize("case", hostile.XML_CASES, ids=_ids(hostile.XML_CASES))
def test_unreadable_definitions_are_refused_at_every_door(world: World, page: Page, traced: int, case: Case) -> None:
    assert case.kind in (UNREADABLE, NOT_BPMN)
    run_case(world, page, case)


EXPRESSION_CASES = hostile.expression_cases()


@pytest.mark.parametrize("case", EXPRESSION_CASES, ids=_ids(EXPRESSION_CASES))
def test_expression_escapes_and_bombs_are_refused_at_every_door(world: World, page: Page, traced: int,
                                                                 case: Case) -> None:
    run_case(world, page, case)


@pytest.mark.parametrize("case", hostile.TRAPS + hostile.PARSER_TRAPS, ids=_ids(hostile.TRAPS + hostile.PARSER_TRAPS))
def test_parser_traps_and_call_cycles_are_refused_at_every_door(world: World, page: Page, traced: int,
                                                                case: Case) -> None:
    run_case(world, page, case)


def test_every_refusal_holds_on_postgresql_too(postgres_url: str, traced: int) -> None:
    """The same cases through the same doors on PostgreSQL: what is stored (no version, no draft changed)
    is checked on the database the larger offices run, in one world for speed."""
    url, drop = _fresh_postgres(postgres_url)
    pg_world = battery_world(url)
    try:
        pg_page = analyst_page(pg_world)
        cases = hostile.XML_CASES + EXPRESSION_CASES + hostile.TRAPS + hostile.PARSER_TRAPS
        for case in cases:
            run_case(pg_world, pg_page, case)
        assert len(cases) > 60
    finally:
        pg_world.close()
        drop()


@pytest.mark.parametrize("case", hostile.UNUSUAL, ids=_ids(hostile.UNUSUAL))
def test_unusual_but_safe_definitions_open_as_drafts_and_check_clean(world: World, page: Page, case: Case) -> None:
    """What other tools write (their extensions, other encodings, comments) is not hostile: it opens."""
    for name, door in (("import API", import_api), ("import page", import_page)):
        before = stored(world)
        measured = through(door, world, page, case, name == "import API")
        battery.add(battery.CASES)
        assert measured.seconds < DOOR_SECONDS and measured.peak < DOOR_BYTES, (name, measured.seconds)
        assert measured.answer.status in (201, 303) and measured.answer.draft, says(measured.answer, case)
        assert stored(world).versions == before.versions and stored(world).instances == before.instances
    if case.text_doors:
        checked = through(validate, world, page, case, False)
        assert checked.answer.status == 200 and checked.answer.messages == [], says(checked.answer, case)


def test_khanton_import_and_deploy_refuse_every_unreadable_file_in_one_line_each(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line is a door too: one line per file saying why, no traceback, nothing stored."""
    from web import cli

    monkeypatch.setenv("DATABASE_URL", world.khanton.db.url)
    cases = [c for c in hostile.XML_CASES if c.kind == UNREADABLE]
    files = []
    for number, case in enumerate(cases):
        files.append(tmp_path / f"case-{number}.bpmn")
        files[-1].write_bytes(case.as_bytes())
    before = stored(world)
    started = time.perf_counter()
    assert cli.main(["import", *map(str, files)]) == 1
    assert time.perf_counter() - started < DOOR_SECONDS * 3
    out = capsys.readouterr().out
    deployed = {}
    for file in files:  # deploy is all or nothing: one file at a time, to see each refusal
        assert cli.main(["deploy", str(file)]) == 1
        deployed[file] = capsys.readouterr().out
    for file, case in zip(files, cases, strict=True):
        for command, text, prefix in (("import", out, f"{file}: "), ("deploy", deployed[file], "")):
            lines = [line for line in text.splitlines() if line.startswith(prefix) and (prefix or line.strip())]
            said = " ".join(lines).lower()
            assert lines and any(w.lower() in said for w in case.words), (command, case.name, lines)
            assert all(thai(line) for line in lines) and "traceback" not in said, (command, case.name, lines)
            battery.add(battery.CASES)
            battery.add(battery.REFUSED)
    assert stored(world) == before


def test_memory_stayed_bounded(traced: int) -> None:
    """The process's peak resident size grew little over the whole battery (gzip and entity bombs
    never inflated, 5 MB bodies copied a few times at most)."""
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - traced  # kB on Linux
    assert grown < 256 * 1024, f"the battery's peak grew {grown // 1024} MB"


# --- the server keeps serving others ----------------------------------------------------------


def test_the_server_answers_others_while_a_hostile_definition_is_checked(world: World) -> None:
    """A real threaded HTTP server: while an analyst's hostile 5 MB publish is being checked (the slowest
    door: SpiffWorkflow's parser in its child process), an officer's inbox is answered promptly."""
    from werkzeug.serving import make_server

    http = make_server("127.0.0.1", 0, world.app, threaded=True)
    serving = threading.Thread(target=http.serve_forever, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{http.server_port}/api/v1"
    heavy = hostile.Case("chain", hostile._many_tasks(hostile.CHAIN)).as_bytes()
    results: list[tuple[int, float]] = []

    def publish() -> None:
        request = urllib.request.Request(f"{base}/processes/{KEY}/bpmn", data=heavy, method="PUT", headers={
            "Authorization": f"Bearer {world.tokens['analyst']}", "Content-Type": "application/xml"})
        started = time.perf_counter()
        try:
            urllib.request.urlopen(request, timeout=30)
            results.append((200, time.perf_counter() - started))
        except urllib.error.HTTPError as err:
            results.append((err.code, time.perf_counter() - started))

    def inbox() -> float:
        officer = {"Authorization": f"Bearer {world.tokens['officer']}"}
        request = urllib.request.Request(f"{base}/tasks", headers=officer)
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            json.loads(response.read())
        return time.perf_counter() - started

    try:
        before = stored(world)
        inbox()  # warm: the first request of a process loads what it loads
        publishing = threading.Thread(target=publish)
        publishing.start()
        time.sleep(0.05)
        waits = []
        while publishing.is_alive() and len(waits) < 20:
            waits.append(inbox())
        publishing.join(30)
        battery.add(battery.CASES)
        assert results and results[0][0] == 422, results
        battery.add(battery.REFUSED)
        assert waits, "the publish ended before the inbox was asked: nothing shown"
        assert max(waits) < 1.0, f"the inbox waited {max(waits):.2f} s while a definition was checked"
        assert stored(world) == before
    finally:
        http.shutdown()
        serving.join(5)
