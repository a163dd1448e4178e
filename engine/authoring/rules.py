"""Validation rules on a diagram's structure, run by the same check that publishing uses
(engine.definitions.inspect): gateways' ways out, dead ends, unreachable steps.

Every problem names the element and its line in the file, in Thai, with how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from ..errors import Problem

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN}
# Flow nodes a token can reach by sequence flows (boundary events ride on their activity).
NODES = {
    "startEvent", "endEvent", "userTask", "manualTask", "task", "scriptTask", "serviceTask",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
    "callActivity", "subProcess", "transaction", "adHocSubProcess", "intermediateCatchEvent",
    "intermediateThrowEvent", "boundaryEvent", "businessRuleTask", "sendTask", "receiveTask",
}
SCOPES = {"process", "subProcess", "transaction"}
DECIDING = {"exclusiveGateway": "เกตเวย์แบบเลือกทางเดียว (exclusive)",
            "inclusiveGateway": "เกตเวย์แบบเลือกได้หลายทาง (inclusive)"}


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _children(scope: etree._Element) -> list[etree._Element]:
    return [c for c in scope if isinstance(c.tag, str) and etree.QName(c).namespace == BPMN]


def _compensation(node: etree._Element) -> bool:
    """A compensation handler or its boundary event: joined by an association, never by a flow."""
    return node.get("isForCompensation") == "true" or node.find("bpmn:compensateEventDefinition", NS) is not None


MAX_NAME_CHARS = 300  # a procedure's name is kept in process_versions.name, String(300)


def check(process: etree._Element, problems: list[Problem], file: str | None = None) -> None:
    """Add the structural problems of `process` (and of every sub-process in it) to `problems`."""
    _check_ids(process.getroottree().getroot(), problems, file)
    if len(process.get("name") or "") > MAX_NAME_CHARS:
        problems.append(Problem(f"ชื่อกระบวนงานยาวเกิน {MAX_NAME_CHARS} ตัวอักษร", element=process.get("id"),
                                line=process.sourceline, file=file))
    pending = [process]
    while pending:
        scope = pending.pop(0)
        _check_scope(scope, problems, file)
        pending.extend(c for c in _children(scope) if _local(c) in SCOPES)


def _check_ids(root: etree._Element, problems: list[Problem], file: str | None) -> None:
    """Ids are unique in the file: SpiffWorkflow finds a step by its id."""
    seen: dict[str, int | None] = {}
    for node in root.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN or not node.get("id"):
            continue
        ident = node.get("id", "")
        if ident in seen:
            problems.append(Problem(
                f"id {ident!r} ซ้ำกับ element ที่บรรทัด {seen[ident]} — ทุก element ต้องมี id ไม่ซ้ำกัน",
                element=ident, line=node.sourceline, file=file))
        else:
            seen[ident] = node.sourceline


def _check_scope(scope: etree._Element, problems: list[Problem], file: str | None) -> None:
    nodes = {c.get("id", ""): c for c in _children(scope) if _local(c) in NODES and not _compensation(c)}
    flows = [c for c in _children(scope) if _local(c) == "sequenceFlow"]
    outgoing: dict[str, list[etree._Element]] = {key: [] for key in nodes}
    edges: dict[str, set[str]] = {key: set() for key in nodes}
    for flow in flows:
        source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
        if source in nodes and target in nodes:
            outgoing[source].append(flow)
            edges[source].add(target)
        elif source in nodes or target in nodes or flow.get("id"):
            missing = target if source in nodes else source
            problems.append(Problem(
                f"เส้นทาง (sequence flow) นี้อ้างถึง {missing!r} ซึ่งไม่มีอยู่ใน process หรือ sub-process เดียวกัน "
                "— ลากเส้นทางใหม่ให้เชื่อมสองขั้นตอนที่มีอยู่", element=flow.get("id"), line=flow.sourceline,
                file=file))
    for node_id, node in nodes.items():  # boundary events leave their activity; link events jump
        if _local(node) == "boundaryEvent" and node.get("attachedToRef") in edges:
            edges[node.get("attachedToRef", "")].add(node_id)
    links: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        link = node.find("bpmn:linkEventDefinition", NS)
        if link is not None and _local(node) == "intermediateCatchEvent":
            links.setdefault(link.get("name", ""), []).append(node_id)
    for node_id, node in nodes.items():
        link = node.find("bpmn:linkEventDefinition", NS)
        if link is not None and _local(node) == "intermediateThrowEvent":
            edges[node_id].update(links.get(link.get("name", ""), []))
    _check_gateways(nodes, outgoing, problems, file)
    _check_reach(scope, nodes, edges, problems, file)


def _check_gateways(nodes: dict[str, etree._Element], outgoing: dict[str, list[etree._Element]],
                    problems: list[Problem], file: str | None) -> None:
    """Each way out of a deciding gateway has a condition, or is the gateway's one default."""
    for node_id, node in nodes.items():
        kind = _local(node)
        if kind not in DECIDING:
            continue
        ways = outgoing[node_id]
        default = node.get("default")
        if default and default not in {f.get("id") for f in ways}:
            problems.append(Problem(
                f"{DECIDING[kind]}ระบุทางปริยาย (default) เป็น {default!r} ซึ่งไม่ใช่เส้นทางที่ออกจากเกตเวย์นี้ "
                "— เลือกทางปริยายใหม่จากเส้นทางที่ออกจากเกตเวย์", element=node_id, line=node.sourceline, file=file))
        if len(ways) < 2:
            continue  # a gateway that only joins, or has one way on: nothing to decide
        for flow in ways:
            condition = (flow.findtext("bpmn:conditionExpression", "", NS) or "").strip()
            if not condition and flow.get("id") != default:
                problems.append(Problem(
                    f"เส้นทางที่ออกจาก{DECIDING[kind]} {node_id!r} ไม่มีเงื่อนไขและไม่ใช่ทางปริยาย (default) "
                    "— เขียนเงื่อนไข (เช่น decision == 'approve') หรือกำหนดเส้นทางนี้เป็นทางปริยายของเกตเวย์",
                    element=flow.get("id"), line=flow.sourceline, file=file))


def _reachable(starts: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(starts)
    pending = list(seen)
    while pending:
        for following in edges.get(pending.pop(), ()):
            if following not in seen:
                seen.add(following)
                pending.append(following)
    return seen


def _check_reach(scope: etree._Element, nodes: dict[str, etree._Element], edges: dict[str, set[str]],
                 problems: list[Problem], file: str | None) -> None:
    """From a start every step is reachable, and from every step an end event is."""
    triggered = {i for i, n in nodes.items() if n.get("triggeredByEvent") == "true"}  # event sub-processes
    starts = [i for i, n in nodes.items() if _local(n) == "startEvent" or i in triggered]
    if _local(scope) == "adHocSubProcess":
        return
    if not any(_local(nodes[i]) == "startEvent" for i in starts) and nodes:
        problems.append(Problem("ไม่มีจุดเริ่มต้น (start event) — เพิ่ม start event แล้วลากเส้นทางไปยังขั้นแรก",
                                element=scope.get("id"), line=scope.sourceline, file=file))
        return
    reached = _reachable(starts, edges)
    for node_id, node in nodes.items():
        if node_id not in reached:
            problems.append(Problem(
                "ขั้นตอนนี้ไปถึงไม่ได้จากจุดเริ่มต้น (ไม่มีเส้นทางใดนำมาสู่ขั้นตอนนี้) — ลากเส้นทางมายังขั้นตอนนี้ "
                "หรือลบออก", element=node_id, line=node.sourceline, file=file))
    backwards: dict[str, set[str]] = {key: set() for key in nodes}
    for source, targets in edges.items():
        for target in targets:
            backwards[target].add(source)
    ends = [i for i, n in nodes.items() if _local(n) == "endEvent" or i in triggered]
    finishing = _reachable(ends, backwards)
    for node_id, node in nodes.items():
        if node_id in finishing or node_id not in reached:
            continue
        if not edges[node_id]:
            message = ("ทางตัน: ขั้นตอนนี้ไม่มีเส้นทางออกและไม่ใช่จุดสิ้นสุด (end event) — ลากเส้นทางต่อไปยังขั้นถัดไป "
                       "หรือไปยัง end event")
        else:
            message = ("ทางตัน: จากขั้นตอนนี้ไม่มีทางใดไปถึงจุดสิ้นสุด (end event) งานจะวนหรือค้างอยู่ไม่รู้จบ "
                       "— เพิ่มทางออกไปยัง end event")
        problems.append(Problem(message, element=node_id, line=node.sourceline, file=file))
