"""Publishing definitions: every refusal says where and why, and stores nothing."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidDefinition
from engine.models import ProcessVersion
from tests.conftest import ROOT, World
from tests.drive import start

BT = (ROOT / "processes" / "budget-transfer.bpmn").read_text(encoding="utf-8")


def _versions(world: World) -> int:
    with world.khanton.db.transaction(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(ProcessVersion)) or 0)


def _put(world: World, body: str | bytes, user: str = "analyst", key: str = "budget-transfer"):  # type: ignore[no-untyped-def]
    data = body.encode("utf-8") if isinstance(body, str) else body
    return world.api(user).put(f"/processes/{key}/bpmn", data=data, content_type="application/xml")


def test_identical_upload_makes_no_new_version_and_a_change_does(world: World) -> None:
    before = _versions(world)
    same = _put(world, BT)
    assert same.status_code == 200 and same.get_json()["version"] == 1
    running = start(world, "budget-transfer")
    changed = _put(world, BT.replace("ศึกษาข้อมูล", "ศึกษาและรวบรวมข้อมูล", 1))
    assert changed.status_code == 201 and changed.get_json()["version"] == 2
    assert _versions(world) == before + 1
    # The running instance stays on its version; a new one starts on the new.
    assert world.api("officer").get(f"/instances/{running['id']}").get_json()["version"] == 1
    assert start(world, "budget-transfer")["version"] == 2
    listed = {p["key"]: p for p in world.api("officer").get("/processes").get_json()}
    assert listed["budget-transfer"]["latest_version"] == 2
    assert [v["version"] for v in listed["budget-transfer"]["versions"]] == [1, 2]
    assert world.api("officer").get("/processes/budget-transfer/bpmn?version=1").data.decode() == BT


UNSAFE = [
    ('decision == "approved"', '__import__("os").system("id")', "_"),
    ('decision == "approved"', 'open("/etc/passwd").read() == ""', "open"),
    ('decision == "approved"', 'decision.__class__ == "x"', "__class__"),
    ('decision == "approved"', 'exec("x = 1") == None', "exec"),
    ('decision == "approved"', '(lambda: True)()', ""),
]


@pytest.mark.parametrize(("old", "new", "named"), UNSAFE, ids=[u[1] for u in UNSAFE])
def test_unsafe_expressions_are_refused_with_element_and_line(world: World, old: str, new: str,
                                                              named: str) -> None:
    before = _versions(world)
    response = _put(world, BT.replace(old, new, 1))
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert details and details[0]["element"] and details[0]["line"]
    assert named in details[0]["message"]
    assert _versions(world) == before


def test_malformed_doctype_oversize_and_non_analyst_are_refused(world: World) -> None:
    before = _versions(world)
    assert _put(world, BT, user="officer").status_code == 403
    malformed = _put(world, BT[: len(BT) // 2])
    assert malformed.status_code == 422 and malformed.get_json()["error"]["details"][0]["line"]
    doctype = _put(world, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                          + BT.split("?>", 1)[1])
    assert doctype.status_code == 422
    assert "DOCTYPE" in doctype.get_json()["error"]["details"][0]["message"]
    huge = _put(world, BT + "<!--" + "x" * (5 * 1024 * 1024) + "-->")
    assert huge.status_code == 413
    wrong_key = _put(world, BT, key="other-process")
    assert wrong_key.status_code == 422
    assert _versions(world) == before


def test_dangling_data_object_reference_is_refused_not_looped_on(world: World) -> None:
    body = BT.replace("</bpmn:process>",
                      '<bpmn:dataObjectReference id="ref1" dataObjectRef="nowhere" /></bpmn:process>', 1)
    response = _put(world, body)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["element"] == "ref1"


def _copy_tree(tmp_path: Path) -> tuple[Path, Path]:
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    processes.mkdir()
    shutil.copy(ROOT / "processes" / "budget-transfer.bpmn", processes)
    shutil.copy(ROOT / "processes" / "monitor-and-report.bpmn", processes)
    shutil.copytree(ROOT / "forms", forms)
    return processes, forms


def test_user_task_problems_are_each_named(tmp_path: Path, sqlite_url: str) -> None:
    processes, forms = _copy_tree(tmp_path)
    world = World(sqlite_url, processes, forms, load=False)
    target = processes / "budget-transfer.bpmn"
    xml = target.read_text(encoding="utf-8")
    xml = xml.replace("budget-transfer/study_spending.json", "budget-transfer/missing.json")
    xml = xml.replace('<bpmn:lane id="governor"', '<bpmn:lane id="mayor"')
    target.write_text(xml, encoding="utf-8")
    (forms / "budget-transfer" / "set_guidelines.json").write_text(
        json.dumps({"type": "object", "properties": {"x": {"type": "nonsense"}}}), encoding="utf-8")
    board = json.loads((forms / "budget-transfer" / "board_approval.json").read_text(encoding="utf-8"))
    board["required"] = [r for r in board["required"] if r != "decision"]
    (forms / "budget-transfer" / "board_approval.json").write_text(json.dumps(board), encoding="utf-8")
    checked = world.khanton.check_files([target])[0]
    messages = [(p.element, p.message) for p in checked.problems]
    elements = [element for element, _ in messages]
    assert "mayor" in elements
    assert "study_spending" in elements and any("missing.json" in m for _, m in messages)
    assert "set_guidelines" in elements
    assert any("decision" in m for _, m in messages)
    world.close()


def test_validate_and_deploy_cli_print_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from web.cli import main

    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "budget-transfer.bpmn"
    bad.write_text(BT.replace('decision == "approved"', "open('x')"), encoding="utf-8")
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "Traceback" not in out and out.count("\n") >= 1 and "open" in out
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(["deploy", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "Traceback" not in out and "open" in out
    assert main(["validate", str(tmp_path / "nope.bpmn")]) == 1
    assert main(["validate", str(ROOT / "processes" / "budget-transfer.bpmn")]) == 0


DANGLING = ROOT / "tests" / "data" / "dangling-data-object.bpmn"


def test_a_subprocess_data_reference_to_nowhere_is_refused_before_spiffworkflow_sees_it(tmp_path: Path) -> None:
    from engine.definitions import check_batch

    checked = check_batch([(DANGLING.name, DANGLING.read_bytes())], tmp_path, None)
    # (the plain task outside any lane is refused too: nobody could complete it)
    assert [(p.element, p.line) for p in checked[0].problems] == [("sub_task", 9), ("ref", 14)]


def test_spiffworkflow_parsing_is_bounded_in_time() -> None:
    # SpiffWorkflow's parser never returns on this file; the child process is killed at the limit.
    from engine.spec_worker import parse_in_child

    result = parse_in_child([DANGLING.stem], {DANGLING.stem: DANGLING.read_text(encoding="utf-8")}, timeout=2)
    assert "2 วินาที" in result[DANGLING.stem]["error"]["message"]


# --- definitions that could never run to an end, and expressions nobody checked -------------------

DATA = ROOT / "tests" / "data"


def _put_fixture(world: World, key: str, body: str | None = None):  # type: ignore[no-untyped-def]
    return _put(world, body if body is not None else (DATA / f"{key}.bpmn").read_text(encoding="utf-8"), key=key)


def test_a_call_activity_that_calls_its_own_process_is_refused(world: World) -> None:
    before = _versions(world)
    began = time.monotonic()
    response = _put_fixture(world, "calls-itself")
    assert time.monotonic() - began < 5
    assert response.status_code == 422
    [problem] = response.get_json()["error"]["details"]
    assert problem["element"] == "again" and problem["line"] == 5
    assert "calls-itself → calls-itself" in problem["message"] and "วน" in problem["message"]
    assert _versions(world) == before


def test_a_self_calling_version_published_before_the_check_is_halted_not_hung(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Such versions may already be stored; starting one used to hang with the write lock held.
    from engine import definitions

    monkeypatch.setattr(definitions, "_check_call_cycles", lambda *args: None)
    assert _put_fixture(world, "calls-itself").status_code == 201
    began = time.monotonic()
    started = world.api("officer").post("/instances", json={"process": "calls-itself", "data": {}})
    assert time.monotonic() - began < 4
    assert started.status_code == 201 and started.get_json()["status"] == "error"
    timeline = world.api("supervisor").get(f"/instances/{started.get_json()['id']}/timeline").get_json()
    assert timeline[-1]["kind"] == "error" and "ระบบหยุดกระบวนงานนี้ไว้" in timeline[-1]["data"]["message"]


def test_a_cycle_of_call_activities_is_refused_in_one_batch_and_through_published_versions(
        world: World) -> None:
    with pytest.raises(InvalidDefinition) as refused:
        world.khanton.deploy_files([DATA / "cycle-a.bpmn", DATA / "cycle-b.bpmn"], "analyst")
    named = {(p.element, p.file) for p in refused.value.problems}
    assert named == {("call_cycle-b", "cycle-a.bpmn"), ("call_cycle-a", "cycle-b.bpmn")}
    before = _versions(world)
    # b first without the call, a calling it; then a new b that calls a closes the loop.
    b = (DATA / "cycle-b.bpmn").read_text(encoding="utf-8")
    plain_b = b.replace('callActivity id="call_cycle-a" calledElement="cycle-a"', 'scriptTask id="call_cycle-a"')
    plain_b = plain_b.replace("</bpmn:callActivity>", "<bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>")
    assert _put_fixture(world, "cycle-b", plain_b).status_code == 201
    assert _put_fixture(world, "cycle-a").status_code == 201
    closing = _put_fixture(world, "cycle-b")
    assert closing.status_code == 422
    [problem] = closing.get_json()["error"]["details"]
    assert problem["element"] == "call_cycle-a" and "cycle-b → cycle-a → cycle-b" in problem["message"]
    assert _versions(world) == before + 2


def test_manual_and_plain_tasks_need_a_lane_and_with_one_they_can_be_completed(world: World) -> None:
    refused = _put_fixture(world, "manual-no-lane")
    assert refused.status_code == 422
    problems = {p["element"]: p for p in refused.get_json()["error"]["details"]}
    assert set(problems) == {"sign_paper", "file_it"}
    assert problems["sign_paper"]["line"] == 5 and "lane" in problems["sign_paper"]["message"]
    assert "ไม่มีผู้ใด" in problems["file_it"]["message"]
    assert _put_fixture(world, "manual-in-lane").status_code == 201
    instance = start(world, "manual-in-lane", {})
    for name in ["ลงนามในกระดาษ", "เก็บเข้าแฟ้ม"]:
        [ready] = instance["ready_tasks"]
        assert ready["lane"] == "plan_officer" and ready["name"] == name
        done = world.api("officer").post(f"/tasks/{ready['id']}/complete", json={"data": {}})
        assert done.status_code == 200, done.get_json()
        instance = done.get_json()
    assert instance["status"] == "completed"


def test_loop_conditions_and_conditional_events_are_checked_at_publish(world: World) -> None:
    before = _versions(world)
    response = _put_fixture(world, "unchecked-expressions")
    assert response.status_code == 422
    problems = {p["element"]: p for p in response.get_json()["error"]["details"]}
    assert set(problems) == {"repeat", "wait_until"}
    assert problems["repeat"]["line"] == 8 and problems["repeat"]["message"].startswith("loopCondition: ")
    assert problems["wait_until"]["line"] == 15 and "open" in problems["wait_until"]["message"]
    assert _versions(world) == before


def test_the_write_lock_is_free_while_a_definition_is_parsed(world: World,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow parse (large definitions, SpiffWorkflow's parser) must not stop every other write; and a
    procedure published meanwhile sends the check round again, so the called spec is never stale."""
    from engine import definitions

    parsing, parses = threading.Event(), []
    real = definitions.parse_in_child

    def slow_parse(main: list[str], files: dict[str, str], timeout: float = 30) -> dict[str, Any]:
        if "cycle-a" in main:
            parses.append(files["cycle-b"])
            if len(parses) == 1:
                parsing.set()
                time.sleep(1.5)
        return real(main, files, timeout)

    b = (DATA / "cycle-b.bpmn").read_text(encoding="utf-8")
    plain_b = b.replace('callActivity id="call_cycle-a" calledElement="cycle-a"', 'scriptTask id="call_cycle-a"')
    plain_b = plain_b.replace("</bpmn:callActivity>", "<bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>")
    assert _put_fixture(world, "cycle-b", plain_b).status_code == 201
    monkeypatch.setattr(definitions, "parse_in_child", slow_parse)
    results: list[Any] = []
    publishing = threading.Thread(target=lambda: results.append(_put_fixture(world, "cycle-a")))
    publishing.start()
    assert parsing.wait(10)
    began = time.monotonic()
    world.khanton.add_user("newcomer", ["officer"], ["plan_officer"])  # any write
    second_b = plain_b.replace("x = 1", "x = 2")
    assert _put_fixture(world, "cycle-b", second_b).status_code == 201
    assert time.monotonic() - began < 1.0
    publishing.join(20)
    assert results and results[0].status_code == 201, results[0].get_json()
    assert len(parses) == 2 and "x = 2" in parses[1]


@pytest.mark.parametrize(("inside", "element"), [
    ('<bpmn:intermediateThrowEvent id="tell"><bpmn:messageEventDefinition messageRef="m"><bpmn:extensionElements>'
     '<spiffworkflow:messagePayload>__import__("os")</spiffworkflow:messagePayload></bpmn:extensionElements>'
     '</bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>', "tell"),
    ('<bpmn:userTask id="each"><bpmn:multiInstanceLoopCharacteristics><bpmn:completionCondition>'
     'open("x")</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>', "each"),
    ('<bpmn:boundaryEvent id="late" attachedToRef="each"><bpmn:timerEventDefinition><bpmn:timeDuration>'
     '"P1D" if x.__class__ else "P2D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>', "late"),
])
def test_every_expression_spiffworkflow_evaluates_is_checked(tmp_path: Path, inside: str, element: str) -> None:
    from engine.definitions import inspect

    xml = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d">\n'
           '<bpmn:correlationProperty id="cp"><bpmn:correlationPropertyRetrievalExpression messageRef="m">\n'
           '<bpmn:formalExpression>exec("1")</bpmn:formalExpression></bpmn:correlationPropertyRetrievalExpression>'
           '</bpmn:correlationProperty>\n'
           f'<bpmn:process id="p" isExecutable="true">\n{inside}\n</bpmn:process></bpmn:definitions>')
    problems = [(p.element, p.line) for p in inspect(xml, tmp_path).problems if "ไม่อนุญาต" in p.message]
    assert problems == [("cp", 3), (element, 5)]


def test_a_call_into_a_loop_of_other_processes_is_refused(tmp_path: Path) -> None:
    from engine.definitions import check_batch

    def calling(key: str, called: str) -> str:
        return (DATA / "cycle-a.bpmn").read_text(encoding="utf-8").replace("cycle-b", called).replace(
            'id="cycle-a"', f'id="{key}"')

    library = {"loop-b": calling("loop-b", "loop-c"), "loop-c": calling("loop-c", "loop-b")}
    [checked] = check_batch([("entry.bpmn", calling("entry", "loop-b"))], tmp_path, None, library=library)
    [problem] = checked.problems
    assert problem.element == "call_loop-b" and problem.file == "entry.bpmn"
    assert "loop-b → loop-c → loop-b" in problem.message
