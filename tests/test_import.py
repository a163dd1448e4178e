"""Importing diagrams drawn in other tools (issue 8, point 7): files written in the styles of Camunda
Modeler 5, Signavio, Bizagi and Visio open as drafts with the right list of problems; what cannot be
read is refused with the reason, in bounded time, and leaves no draft; the API and the CLI say the same."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from engine.authoring import importing, layout
from engine.errors import TooLarge
from engine.models import ProcessDraft
from tests.conftest import World
from tests.test_validation_rules import GOOD, diagram
from web import cli

DATA = Path(__file__).resolve().parent / "data" / "import"
BPMN = layout.BPMN
DI = {"bpmndi": layout.BPMNDI}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(f"sqlite:///{tmp_path_factory.mktemp('import') / 'khanton.db'}", load=False)
    yield w
    w.close()


def do_import(world: World, name: str, key: str | None = None) -> importing.Imported:
    return importing.import_diagram(world.khanton.db, world.khanton.forms_dir, (DATA / name).read_bytes(),
                                    "analyst", key, name)


def draft_xml(world: World, draft: int) -> etree._Element:
    with world.khanton.db.transaction(read_only=True) as session:
        row = session.get(ProcessDraft, draft)
        assert row is not None
        return etree.fromstring(row.xml.encode("utf-8"))


def drafts(world: World) -> int:
    with world.khanton.db.transaction(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(ProcessDraft)) or 0)


def line_in(name: str, element: str) -> int:
    text = (DATA / name).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(text, 1) if f'id="{element}"' in line)


def by_element(imported: importing.Imported) -> dict[str | None, str]:
    return {p.element: p.message for p in imported.problems}


def drawn(root: etree._Element, process_id: str) -> None:
    """Every step and flow of the process has a shape or an edge bpmn-js can draw."""
    process = next(p for p in root.iter(f"{{{BPMN}}}process") if p.get("id") == process_id)
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", DI)}
    edges = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", DI)}
    steps = {c.get("id") for c in process if etree.QName(c).localname in importing.STEPS}
    assert steps and steps <= shapes, steps - shapes
    flows = {c.get("id") for c in process if etree.QName(c).localname == "sequenceFlow"}
    assert flows <= edges, flows - edges


def test_camunda_modeler_5(world: World) -> None:
    name = "camunda-modeler-5.bpmn"
    imported = do_import(world, name)
    assert imported.key == "process-purchase" and imported.process == "Process_Purchase"
    problems = by_element(imported)
    assert set(problems) == {"Lane_Officer", "Activity_Request", "Activity_Approve", "Flow_Yes", "Flow_No"}
    assert "khanton lane add Lane_Officer" in problems["Lane_Officer"]
    assert "แบบฟอร์ม" in problems["Activity_Request"]
    assert "conditionExpression" in problems["Flow_Yes"]  # ${approved} is JUEL, not our expressions
    assert "ทางปริยาย" in problems["Flow_No"]
    assert {p.line for p in imported.problems if p.element == "Flow_No"} == {line_in(name, "Flow_No")}
    assert not any("timeDuration" in m for m in problems.values())  # P7D on the boundary timer is understood
    assert any("Camunda" in note for note in imported.notes)
    root = draft_xml(world, imported.draft)
    assert root.find(f"{{{BPMN}}}process").get("id") == "process-purchase"
    assert root.find(f".//{{{BPMN}}}participant").get("processRef") == "process-purchase"
    assert root.find(".//bpmndi:BPMNDiagram", DI).get("id") == "BPMNDiagram_1"  # its own drawing kept


def test_signavio_not_executable(world: World) -> None:
    imported = do_import(world, "signavio.bpmn")
    assert imported.key == "quarterly-report"
    assert set(by_element(imported)) == {"sid-COLLECT", "sid-SEND", "sid-F3", "sid-F4"}
    assert any("isExecutable" in note for note in imported.notes)
    assert any("Signavio" in note for note in imported.notes)
    process = draft_xml(world, imported.draft).find(f"{{{BPMN}}}process")
    assert process.get("isExecutable") == "true" and process.get("id") == "quarterly-report"
    assert process.findtext(f".//{{{BPMN}}}timeCycle") == "R4/2026-10-01/P3M"


def test_bizagi_pools_without_diagram(world: World) -> None:
    imported = do_import(world, "bizagi-pools.bpmn")
    assert imported.process == "Proc_Office" and imported.others == ["Proc_School (ฝั่งโรงเรียน)"]
    assert imported.problems == []  # plain tasks in known lanes: SpiffWorkflow parsed it
    assert any("จัดวาง" in note for note in imported.notes)
    root = draft_xml(world, imported.draft)
    drawn(root, imported.key)
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", DI)}
    assert {"Part_School", "Part_Office", "plan_officer", "esa_director"} <= shapes
    assert root.find(".//bpmndi:BPMNPlane", DI).get("bpmnElement") == "Collab_Main"
    executable = {p.get("id"): p.get("isExecutable") for p in root.iter(f"{{{BPMN}}}process")}
    assert executable == {"Proc_School": "false", imported.key: "true"}


def test_visio_without_diagram(world: World) -> None:
    imported = do_import(world, "visio-no-di.bpmn")
    assert imported.key == "school-visit"
    problems = by_element(imported)
    assert "ไปถึงไม่ได้" in problems["Archive"] and "ไปถึงไม่ได้" in problems["End_1"]
    assert "ไม่มีเส้นทางออก" in problems["Write_Report"]
    root = draft_xml(world, imported.draft)
    drawn(root, "school-visit")
    assert root.findtext(f".//{{{BPMN}}}timeDuration") == "P7D"  # ="P7D" as FEEL writes it
    assert any("ตัวจับเวลา" in note for note in imported.notes)


def test_a_key_the_analyst_names_and_a_published_one_never_taken(world: World, tmp_path: Path) -> None:
    assert do_import(world, "signavio.bpmn", key="report-q").key == "report-q"
    path = tmp_path / "budget-allocation.bpmn"
    path.write_text(diagram(GOOD, key="budget-allocation"), encoding="utf-8")
    world.khanton.deploy_files([path], "test")
    imported = do_import(world, "bizagi-pools.bpmn")
    assert imported.key == "budget-allocation-2"
    assert any("'budget-allocation'" in note for note in imported.notes)


def huge_tasks(count: int) -> bytes:
    tasks = "".join(f'<task id="t{i}"/><sequenceFlow id="f{i}" sourceRef="t{i}" targetRef="t{i + 1}"/>'
                    for i in range(count))
    return (f'<definitions xmlns="{BPMN}"><process id="big"><startEvent id="s"/>{tasks}</process>'
            "</definitions>").encode()


HOSTILE = {
    "not xml": (b"this is not xml at all", "XML"),
    "html": (b"<html><body>hello</body></html>", "BPMN 2.0"),
    "doctype": (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol2;</definitions>',
                "DOCTYPE"),
    "no process": (f'<definitions xmlns="{BPMN}"><collaboration id="c"/></definitions>'.encode(), "ไม่มี process"),
    "deep": (f'<definitions xmlns="{BPMN}"><process id="p">'.encode() + b"<a>" * 5000 + b"</a>" * 5000
             + b"</process></definitions>", "XML"),
    "empty": (b"", "XML"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_what_cannot_be_read_is_refused_with_the_reason(world: World, case: str) -> None:
    data, reason = HOSTILE[case]
    before = drafts(world)
    started = time.monotonic()
    with pytest.raises(importing.Unreadable) as refused:
        importing.import_diagram(world.khanton.db, world.khanton.forms_dir, data, "analyst")
    assert time.monotonic() - started < 5
    assert reason in refused.value.problems[0].message
    assert drafts(world) == before


def test_over_5_mb_is_refused(world: World) -> None:
    with pytest.raises(TooLarge):
        importing.import_diagram(world.khanton.db, world.khanton.forms_dir, b" " * (5 * 1024 * 1024 + 1), "a")


def test_a_very_large_diagram_opens_unchecked_in_bounded_time(world: World) -> None:
    started = time.monotonic()
    imported = importing.import_diagram(world.khanton.db, world.khanton.forms_dir, huge_tasks(4000), "analyst")
    assert time.monotonic() - started < 30
    assert len(imported.problems) == 1 and "เกินกว่าที่ตรวจได้" in imported.problems[0].message
    assert any("จัดวาง" in note for note in imported.notes)


# --- the API ----------------------------------------------------------------------------------


def upload(world: World, user: str, data: bytes, filename: str = "diagram.bpmn", **fields: str) -> object:
    return world.api(user).post("/processes/import", data={"file": (io.BytesIO(data), filename), **fields},
                                content_type="multipart/form-data")


def test_api_imports_as_a_draft(world: World) -> None:
    response = upload(world, "analyst", (DATA / "camunda-modeler-5.bpmn").read_bytes(), key="purchase-api")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["key"] == "purchase-api" and isinstance(body["draft"], int)
    assert {p["element"] for p in body["problems"]} >= {"Flow_No", "Activity_Request"}
    assert all(set(p) == {"element", "line", "message"} for p in body["problems"])
    assert world.api("analyst").get("/openapi.json").get_json()["paths"]["/processes/import"]["post"]


def test_api_refusals(world: World) -> None:
    assert upload(world, "officer", (DATA / "signavio.bpmn").read_bytes()).status_code == 403
    unreadable = upload(world, "analyst", HOSTILE["doctype"][0])
    assert unreadable.status_code == 422
    assert unreadable.get_json()["error"]["code"] == "unreadable"
    assert "DOCTYPE" in unreadable.get_json()["error"]["details"][0]["message"]
    bad_key = upload(world, "analyst", (DATA / "signavio.bpmn").read_bytes(), key="Bad Key!")
    assert bad_key.status_code == 422
    no_file = world.api("analyst").post("/processes/import", data={}, content_type="multipart/form-data")
    assert no_file.status_code == 422
    assert world.app.test_client().post("/api/v1/processes/import").status_code == 401


# --- the command line ------------------------------------------------------------------------


def test_cli_validate(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", world.khanton.db.url)
    good = tmp_path / "rules-test.bpmn"
    good.write_text(diagram(GOOD), encoding="utf-8")
    assert cli.main(["validate", str(good)]) == 0
    assert capsys.readouterr().out.strip() == f"{good}: ok"
    bad = tmp_path / "visio.bpmn"
    bad.write_bytes((DATA / "visio-no-di.bpmn").read_bytes())
    assert cli.main(["validate", str(bad)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("element Write_Report" in line and "ทางตัน" in line for line in lines)
    assert all(line.startswith(f"{bad}: ") for line in lines)
    assert "Traceback" not in "\n".join(lines)


def test_cli_import(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", world.khanton.db.url)
    files = [str(DATA / "camunda-modeler-5.bpmn"), str(DATA / "visio-no-di.bpmn")]
    before = drafts(world)
    assert cli.main(["import", *files]) == 0
    out = capsys.readouterr().out
    assert drafts(world) == before + 2
    assert f"{files[0]}: เปิดเป็นฉบับร่างหมายเลข" in out
    assert f"{files[1]}: line {line_in('visio-no-di.bpmn', 'Write_Report')}, element Write_Report: ทางตัน" in out
    hostile = tmp_path / "bomb.bpmn"
    hostile.write_bytes(HOSTILE["doctype"][0])
    assert cli.main(["import", files[1], str(hostile), str(tmp_path / "missing.bpmn")]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert sum(1 for line in lines if line.startswith(f"{hostile}: ")) == 1
    assert any(line.startswith(f"{hostile}: นำเข้าไม่ได้") and "DOCTYPE" in line for line in lines)
    assert f"{tmp_path / 'missing.bpmn'}: ไม่พบไฟล์" in lines
    assert not any("Traceback" in line for line in lines)


def test_publishing_refuses_with_the_same_problems(world: World) -> None:
    """PUT /processes/{key}/bpmn runs the same rules: 422, each problem with element, line and Thai."""
    xml = (DATA / "visio-no-di.bpmn").read_text(encoding="utf-8").replace('"SchoolVisit"', '"school-visit"')
    response = world.api("analyst").put("/processes/school-visit/bpmn", data=xml.encode("utf-8"),
                                        content_type="application/xml")
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert {"element": "Write_Report", "line": line_in("visio-no-di.bpmn", "Write_Report"),
            "message": next(d["message"] for d in details if d["element"] == "Write_Report")} in details
    assert all(set(d) == {"element", "line", "message"} for d in details)
    assert any(d["element"] == "Archive" and "ไปถึงไม่ได้" in d["message"] for d in details)


def test_camunda_8_zeebe(world: World) -> None:
    imported = do_import(world, "camunda-8-zeebe.bpmn")
    assert imported.key == "send-reminder"  # from the name in Latin letters
    assert set(by_element(imported)) == {"Task_Review"}  # no lane, no form: the lane problem first
    assert any("zeebe" in note for note in imported.notes)
    assert any("ตัวจับเวลา" in note for note in imported.notes)
    assert draft_xml(world, imported.draft).findtext(f".//{{{BPMN}}}timeDuration") == "P3D"  # =duration("P3D")
