"""Procedure definitions: check a BPMN file and its forms, and publish immutable numbered versions."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only

from . import call_graph, expressions, folding, forms, sources
from .authoring import rules
from .errors import InvalidDefinition, Problem
from .models import ProcessVersion
from .people import lanes as lane_table
from .roles import LANES
from .spec_worker import parse_in_child
from .time import due_rules, iso
from .xmlsafe import UnsafeXml, parse_xml, read_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
KEY = re.compile(r"^[a-z][a-z0-9-]{0,99}$")
END_STATUSES = {"completed", "rejected"}
HUMAN_TASKS = {"userTask": "งานของผู้ใช้", "manualTask": "งานที่ทำด้วยมือ (manual task)",
               "task": "งานทั่วไป (task)"}
# Elements whose text SpiffWorkflow evaluates as an expression, or runs as a script.
EXPRESSION_TAGS = {"conditionExpression", "completionCondition", "loopCardinality", "loopCondition",
                   "timeDate", "timeDuration", "timeCycle", "messagePayload", "formalExpression"}
SCRIPT_TAGS = {"script", "preScript", "postScript"}
FLOW_NODES = (
    "startEvent", "endEvent", "userTask", "manualTask", "task", "scriptTask", "serviceTask",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "callActivity",
    "subProcess", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "businessRuleTask", "sendTask", "receiveTask",
)


@dataclass
class Definition:
    """A checked definition, ready to publish (or only reported, for `khanton validate`)."""

    key: str
    name: str
    xml: str
    meta: dict[str, Any]
    forms: dict[str, Any]
    calls: list[str]
    problems: list[Problem] = field(default_factory=list)
    spec: dict[str, Any] | None = None
    # What the file and its own forms said (sources.digest), before called processes are folded in.
    source_digest: str = ""
    call_sites: list[tuple[str, str, int | None]] = field(default_factory=list)  # (element, called key, line)


def _q(tag: str) -> str:
    return f"{{{BPMN}}}{tag}"


def _props(node: etree._Element) -> dict[str, str]:
    return {
        p.get("name", ""): p.get("value", "")
        for p in node.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    }


def _describe_process(process: etree._Element, problems: list[Problem], file: str,
                      known_lanes: Collection[str]) -> dict[str, Any]:
    """What the engine needs about one process without parsing it again: tasks, lanes, ends."""
    lane_of: dict[str, str] = {}
    for lane in process.iter(_q("lane")):
        lane_id = lane.get("id", "")
        if lane_id not in known_lanes:
            problems.append(Problem(
                f"lane id {lane_id!r} ไม่อยู่ในรายชื่อ lane ของสำนักงาน (ใช้ได้: {', '.join(known_lanes)}) "
                f"หากเป็นผู้ปฏิบัติหรือหน่วยงานใหม่ ขอให้ผู้ดูแลระบบเพิ่ม lane นี้ที่หน้า \"จัดการ lane\" "
                f"(/admin/lanes) หรือสั่ง khanton lane add {lane_id or 'KEY'} --name \"ชื่อภาษาไทย\" "
                "แล้วเผยแพร่อีกครั้ง", element=lane_id, line=lane.sourceline, file=file))
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            lane_of[(ref.text or "").strip()] = lane_id
    tasks: dict[str, Any] = {}
    # SpiffWorkflow waits for a person at manual and plain tasks as at user tasks
    # (`workflow.get_tasks(manual=True)`): each needs a lane, or nobody could ever complete it.
    for task in process.iter(*(_q(tag) for tag in HUMAN_TASKS)):
        task_id = task.get("id", "")
        kind = etree.QName(task).localname
        loop = task.find("bpmn:multiInstanceLoopCharacteristics", NS)
        output = loop.find("bpmn:outputDataItem", NS) if loop is not None else None
        item = loop.find("bpmn:inputDataItem", NS) if loop is not None else None
        tasks[task_id] = {
            "name": task.get("name") or task_id,
            "lane": lane_of.get(task_id),
            "form": _props(task).get("formJsonSchemaFilename"),
            "manual_ref": _props(task).get("manualRef") or None,
            "output_item": output.get("id") if output is not None else None,
            "input_item": item.get("id") if item is not None else None,
            "input_collection": (loop.findtext("bpmn:loopDataInputRef", "", NS).strip() or None)
            if loop is not None else None,
            "line": task.sourceline,
            "due_in": _props(task).get("dueIn") or None,
        }
        if wrong := due_rules.refusal(tasks[task_id]["due_in"]):
            problems.append(Problem(f"dueIn: {wrong}", element=task_id, line=task.sourceline, file=file))
        if not tasks[task_id]["lane"]:
            problems.append(Problem(f"{HUMAN_TASKS[kind]}ต้องอยู่ใน lane ไม่เช่นนั้นไม่มีผู้ใดทำงานนี้ให้เสร็จได้",
                                    element=task_id, line=task.sourceline, file=file))
        if kind == "userTask" and not tasks[task_id]["form"]:
            problems.append(Problem("งานของผู้ใช้ต้องระบุแบบฟอร์ม (formJsonSchemaFilename)",
                                    element=task_id, line=task.sourceline, file=file))
    ends: dict[str, str] = {}
    for end in process.iter(_q("endEvent")):
        status = _props(end).get("khantonEndStatus", "completed")
        if status not in END_STATUSES:
            problems.append(Problem(f"khantonEndStatus ต้องเป็น {' หรือ '.join(sorted(END_STATUSES))}",
                                    element=end.get("id"), line=end.sourceline, file=file))
        ends[end.get("id", "")] = status
    starts = [lane_of.get(s.get("id", "")) for s in process.findall("bpmn:startEvent", NS)]
    return {
        "name": process.get("name") or process.get("id"),
        "tasks": tasks,
        "ends": ends,
        "start_lanes": sorted({lane for lane in starts if lane}),
    }


def _owner(node: etree._Element) -> etree._Element:
    """The flow element (or sequence flow) an expression belongs to, to name it in a problem."""
    ancestors = [node, *node.iterancestors()]
    for kinds in ((*FLOW_NODES, "sequenceFlow", "process"), None):  # else the nearest with an id
        for current in ancestors:
            if (kinds is None and current.get("id")) or (kinds and etree.QName(current).localname in kinds):
                return current
    return node


def _check_expressions(root: etree._Element, problems: list[Problem], file: str) -> None:
    """Every expression and script SpiffWorkflow would evaluate passes the run-time safety check now.

    The whole file, not only the executable process: SpiffWorkflow parses every process in it, and
    message correlations live at the top.
    """
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        local = etree.QName(node).localname
        text = (node.text or "").strip()
        parent = node.getparent()
        conditional = local == "condition" and parent is not None and \
            etree.QName(parent).localname == "conditionalEventDefinition"
        try:
            if text and local in iso.TAGS and iso.is_literal(text):
                iso.check(local, text)  # ISO 8601 as BPMN writes it (engine.time.bpmn), not an expression
            elif text and (local in EXPRESSION_TAGS or conditional):
                expressions.check_expression(text, cardinality=local == "loopCardinality")
            elif text and local in SCRIPT_TAGS:
                expressions.check_script(text)
        except iso.IsoError as err:
            problems.append(Problem(f"{local}: {err}", element=_owner(node).get("id"), line=node.sourceline,
                                    file=file))
        except expressions.ExpressionRefused as err:
            line = (node.sourceline or 0) + (err.line - 1 if err.line else 0)
            problems.append(Problem(f"{local}: {err.message}", element=_owner(node).get("id"),
                                    line=line or None, file=file))
    for process in root.iter(_q("process")):
        objects = {d.get("id") for d in process.iter(_q("dataObject"))}
        for ref in process.iter(_q("dataObjectReference")):
            if ref.get("dataObjectRef") not in objects:
                problems.append(Problem("dataObjectReference อ้างถึง dataObject ที่ไม่มีอยู่",
                                        element=ref.get("id"), line=ref.sourceline, file=file))


def _check_decisions(process: etree._Element, meta: dict[str, Any], schemas: dict[str, Any],
                     problems: list[Problem], file: str) -> None:
    """A gateway that reads `decision` must follow a task whose form requires it (never a stale one)."""
    flows = {f.get("id"): f for f in process.iter(_q("sequenceFlow"))}
    for gateway in process.iter(_q("exclusiveGateway")):
        reads = any("decision" in (f.findtext("bpmn:conditionExpression", "", NS) or "")
                    for f in flows.values() if f.get("sourceRef") == gateway.get("id"))
        if not reads:
            continue
        sources = [f.get("sourceRef") for f in flows.values() if f.get("targetRef") == gateway.get("id")]
        for source in sources:
            task = meta["tasks"].get(source)
            schema = schemas.get(task["form"]) if task and task["form"] else None
            if not schema or "decision" not in schema.get("required", []):
                problems.append(Problem(
                    "เกตเวย์ที่อ่านค่า decision ต้องต่อจากงานที่แบบฟอร์มบังคับกรอก decision โดยตรง",
                    element=gateway.get("id"), line=gateway.sourceline, file=file))


def inspect(xml: str | bytes, forms_dir: Path, expected_key: str | None = None,
            file: str | None = None, known_lanes: Collection[str] | None = None,
            form_overrides: Mapping[str, Any] | None = None) -> Definition:
    """Check everything that can be checked without SpiffWorkflow; problems are collected, not raised.
    `known_lanes` are the office's lanes (engine.people.lanes); without a database, the seed list;
    `form_overrides` (form path -> schema: the editor's) stand in for files."""
    problems: list[Problem] = []
    try:
        root, text = read_xml(xml)
    except UnsafeXml as err:
        err.problem.file = file
        return Definition(expected_key or "", "", "", {}, {}, [], [err.problem])
    processes = root.findall("bpmn:process", NS)
    executable = [p for p in processes if p.get("isExecutable") == "true"] or processes
    if root.tag != _q("definitions") or len(executable) != 1:
        return Definition(expected_key or "", "", text, {}, {}, [], [Problem(
            "ไฟล์ต้องเป็น BPMN 2.0 definitions ที่มี process ที่ทำงานได้หนึ่งเดียว", line=root.sourceline,
            file=file)])
    process = executable[0]
    key = process.get("id", "")
    if not KEY.match(key):
        problems.append(Problem("id ของ process ต้องเป็นตัวพิมพ์เล็ก ตัวเลข และ - เท่านั้น",
                                element=key, line=process.sourceline, file=file))
    if expected_key and key != expected_key:
        problems.append(Problem(f"id ของ process ({key}) ต้องตรงกับชื่อกระบวนงาน ({expected_key})",
                                element=key, line=process.sourceline, file=file))
    meta = _describe_process(process, problems, file or "", LANES if known_lanes is None else known_lanes)
    schemas: dict[str, Any] = {}
    form_paths = [t["form"] for t in meta["tasks"].values() if t["form"]]
    start_form = f"{key}/start.json"
    if start_form in (form_overrides or {}) or (forms_dir / start_form).is_file():
        form_paths.append(start_form)
        meta["start_form"] = start_form
    for task_id, task in list(meta["tasks"].items()) + [("start", {"form": meta.get("start_form")})]:
        path = task["form"]
        if not path or path in schemas:
            continue
        try:
            schemas[path] = forms.load_form(forms_dir, path, form_overrides)
        except ValueError as err:
            problems.append(Problem(str(err), element=task_id, line=task.get("line"), file=file))
    _check_expressions(root, problems, file or "")
    _check_decisions(process, meta, schemas, problems, file or "")
    rules.check(process, problems, file)  # gateways' ways out, dead ends, unreachable steps
    sites = [(c.get("id", ""), c.get("calledElement", ""), c.sourceline) for c in process.iter(_q("callActivity"))]
    calls = sorted({called for _, called, _ in sites})
    return Definition(key, meta["name"], text, meta, schemas, calls, problems,
                      source_digest=sources.digest(text, schemas), call_sites=sites)


def content_hash(definition: Definition, called_hashes: Iterable[str]) -> str:
    """Identity of a version: its XML, its forms, and the versions of the processes it calls."""
    digest = hashlib.sha256(definition.xml.encode("utf-8"))
    digest.update(json.dumps(definition.forms, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    for called in sorted(called_hashes):
        digest.update(called.encode("ascii"))
    return digest.hexdigest()


def latest_versions(session: Session, *columns: Any) -> dict[str, ProcessVersion]:
    """The newest version of every procedure; with `columns`, only those are loaded (the XML and the
    serialized spec are large, and most callers need neither)."""
    newest = (select(ProcessVersion.key, func.max(ProcessVersion.version).label("v"))
              .group_by(ProcessVersion.key).subquery())
    query = select(ProcessVersion).join(
        newest, (ProcessVersion.key == newest.c.key) & (ProcessVersion.version == newest.c.v))
    if columns:
        query = query.options(load_only(ProcessVersion.key, *columns))
    return {row.key: row for row in session.scalars(query)}


def published_hashes(session: Session) -> dict[str, str]:
    """key -> content hash of its newest version: what a check saw, to compare when publishing."""
    return {key: row.content_hash for key, row in latest_versions(session, ProcessVersion.content_hash).items()}


def check_batch(sources: list[tuple[str, str | bytes]], forms_dir: Path, session: Session | None,
                expected_keys: dict[str, str] | None = None,
                library: dict[str, str] | None = None,
                form_overrides: Mapping[str, Any] | None = None) -> list[Definition]:
    """Check several files together (so they may call each other), parsing them with SpiffWorkflow.
    `sources` are (file name, xml); called processes not in the batch come from published versions,
    else from `library` (unpublished files, enough to validate against but not to publish with)."""
    known_lanes = lane_table.names(session) if session is not None else None
    definitions = folding.folding(lambda: [inspect(xml, forms_dir, (expected_keys or {}).get(name), name,
                                                   known_lanes, form_overrides) for name, xml in sources])
    by_key = {d.key: d for d in definitions if d.key}
    published = latest_versions(session) if session is not None else {}
    available = ({**(library or {})} | {k: v.bpmn_xml for k, v in published.items()}
                 | {k: d.xml for k, d in by_key.items()})
    files = [name for name, _ in sources]
    for name, definition in zip(files, definitions, strict=True):
        for element, called, line in definition.call_sites:
            if called not in available:
                definition.problems.append(Problem(
                    f"call activity เรียกกระบวนงาน {called!r} ที่ยังไม่มี", element=element or called, line=line,
                    file=name))
    _check_call_cycles(list(zip(files, definitions, strict=True)), by_key, published, library or {})
    parseable = [d.key for d in definitions if not d.problems]
    if parseable:
        results = parse_in_child(parseable, available)
        for key in parseable:
            result = results[key]
            if "error" in result:
                by_key[key].problems.append(Problem(**result["error"]))
            else:
                by_key[key].spec = result
    _attach_called_meta(definitions, by_key, published, forms_dir)
    return definitions


def _calls_in(xml: str) -> list[str]:
    try:
        root = parse_xml(xml)
    except (UnsafeXml, ValueError):
        return []
    return sorted({c.get("calledElement", "") for c in root.iter(_q("callActivity"))})


def _calls_of(by_key: dict[str, Definition], published: dict[str, ProcessVersion],
              library: dict[str, str] | None = None) -> call_graph.CallsOf:
    """The processes each process calls: being published now, already published, or only in the library."""
    def calls_of(key: str) -> list[str]:
        if key in by_key:
            return by_key[key].calls
        if key in published:
            return list(published[key].meta.get("calls", []))
        return _calls_in(library[key]) if library and key in library else []
    return calls_of


def _check_call_cycles(definitions: list[tuple[str, Definition]], by_key: dict[str, Definition],
                       published: dict[str, ProcessVersion], library: dict[str, str]) -> None:
    """A call activity that leads back to its own process, or into a loop of other processes, would
    start sub-processes without end: refused, naming the call activity and the way round."""
    calls_of = _calls_of(by_key, published, library)
    for file, definition in definitions:
        for element, called, line in definition.call_sites:
            loop = call_graph.loop_through(definition.key, called, calls_of)
            if loop is not None:
                definition.problems.append(Problem(
                    f"call activity นี้นำไปสู่การเรียกกระบวนงานวนซ้ำ ({' → '.join(loop)}) ซึ่งจะทำงานไม่รู้จบ",
                    element=element, line=line, file=file))


def _attach_called_meta(definitions: list[Definition], by_key: dict[str, Definition],
                        published: dict[str, ProcessVersion], forms_dir: Path) -> None:
    """Fold the tasks and forms of called processes into the caller's meta and form snapshot."""
    for definition in definitions:
        if definition.problems:
            continue
        processes = {definition.key: definition.meta}
        reachable = call_graph.paths_from(definition.key, _calls_of(by_key, published))
        for called in (key for key in reachable if key != definition.key):
            if called in by_key:
                processes[called] = by_key[called].meta
                definition.forms.update(by_key[called].forms)
            elif called in published:
                processes[called] = published[called].meta["processes"][called]
                definition.forms.update(published[called].forms)
        definition.meta = {**definition.meta, "processes": processes}


def publish(session: Session, definition: Definition, actor: str,
            source_file: str | None = None) -> tuple[ProcessVersion, bool]:
    """Store a checked definition as a new version; an identical one returns the latest, unchanged.
    `source_file` names the file it was read from (init, deploy); None when a person published it."""
    if definition.problems or definition.spec is None:
        raise InvalidDefinition(definition.problems, definition.key)
    published = latest_versions(session)
    digest = content_hash(definition, [published[c].content_hash for c in definition.calls if c in published])
    latest = published.get(definition.key)
    if latest is not None and latest.content_hash == digest:
        return latest, False
    meta = {**definition.meta, "calls": definition.calls}
    if source_file:
        meta["source"] = sources.Source(source_file, definition.source_digest).as_meta()
    version = ProcessVersion(
        key=definition.key, version=(latest.version + 1 if latest else 1), name=definition.name,
        bpmn_xml=definition.xml, content_hash=digest, spec=definition.spec,
        meta=meta, forms=definition.forms, published_by=actor,
    )
    session.add(version)
    session.flush()
    return version, True


def dependency_order(definitions: list[Definition]) -> list[Definition]:
    """Called processes first, so each caller binds to the version published just before it."""
    by_key = {d.key: d for d in definitions}
    ordered: list[Definition] = []

    def visit(d: Definition, trail: tuple[str, ...]) -> None:
        if d in ordered or d.key in trail:
            return
        for called in d.calls:
            if called in by_key:
                visit(by_key[called], (*trail, d.key))
        ordered.append(d)

    for d in definitions:
        visit(d, ())
    return ordered
