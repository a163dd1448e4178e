"""Lay out a diagram that has no diagram interchange (BPMN DI), so bpmn-js can open it.

A simple left-to-right layered layout: each flow node's column is its distance from a start event,
each lane a horizontal band, nodes of one column and lane stacked; pools (participants of a
collaboration) stacked one below the other. Sub-processes are drawn collapsed.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NSMAP = {"bpmndi": BPMNDI, "dc": DC, "di": DI}
COLUMN, ROW, MARGIN, POOL_HEAD, GAP = 170, 120, 40, 30, 40
SIZES = {"event": (36, 36), "gateway": (50, 50), "activity": (100, 80)}
ACTIVITIES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
SCOPES = {"subProcess", "transaction", "adHocSubProcess"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
Box = tuple[float, float, float, float]


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _size(kind: str) -> tuple[int, int]:
    return SIZES["event" if kind in EVENTS else "gateway" if kind in GATEWAYS else "activity"]


def has_shapes(root: etree._Element, process: etree._Element) -> bool:
    """Whether the file draws any flow node of `process` (then its own drawing is kept)."""
    ids = {c.get("id") for c in process if _local(c) in ACTIVITIES | GATEWAYS | EVENTS}
    return any(s.get("bpmnElement") in ids for s in root.iter(f"{{{BPMNDI}}}BPMNShape"))


def _columns(nodes: dict[str, etree._Element], flows: list[etree._Element]) -> dict[str, int]:
    """Each node's distance (in flows) from the nearest start; what no start reaches follows after."""
    following: dict[str, list[str]] = {key: [] for key in nodes}
    for flow in flows:
        if flow.get("sourceRef") in nodes and flow.get("targetRef") in nodes:
            following[flow.get("sourceRef", "")].append(flow.get("targetRef", ""))
    column: dict[str, int] = {}
    starts = [k for k, n in nodes.items() if _local(n) == "startEvent"]
    for seeds in (starts, list(nodes)):
        for seed in seeds:
            if seed in column:
                continue
            column[seed] = max(column.values(), default=-1) + 1 if seeds is not starts else 0
            pending = [seed]
            while pending:
                current = pending.pop(0)
                for target in following[current]:
                    if target not in column:
                        column[target] = column[current] + 1
                        pending.append(target)
    return column


def _lay_process(plane: etree._Element, process: etree._Element, top: float) -> Box:
    """Shapes and edges of one process's top level, from `top` down; the box they fill."""
    nodes = {c.get("id", ""): c for c in process if _local(c) in ACTIVITIES | GATEWAYS | EVENTS - {"boundaryEvent"}}
    flows = [c for c in process if _local(c) == "sequenceFlow"]
    lanes = [lane for lane in process.iter(f"{{{BPMN}}}lane") if lane.find(f"{{{BPMN}}}lane") is None]
    band_of = {(ref.text or "").strip(): i for i, lane in enumerate(lanes)
               for ref in lane.iter(f"{{{BPMN}}}flowNodeRef")}
    column = _columns(nodes, flows)
    slots: dict[tuple[int, int], int] = {}
    place: dict[str, tuple[int, int, int]] = {}  # node -> band, column, row within the cell
    for key in nodes:
        cell = (band_of.get(key, len(lanes)), column.get(key, 0))
        place[key] = (*cell, slots.get(cell, 0))
        slots[cell] = slots.get(cell, 0) + 1
    bands = len(lanes) + (1 if any(b == len(lanes) for b, _, _ in place.values()) or not lanes else 0)
    heights = [max([slots[c] for c in slots if c[0] == b], default=1) * ROW for b in range(bands)]
    tops = [top + sum(heights[:b]) for b in range(bands)]
    left = MARGIN + POOL_HEAD + 20
    bounds: dict[str, Box] = {}
    for key, (band, col, row) in place.items():
        width, height = _size(_local(nodes[key]))
        x = left + col * COLUMN + (100 - width) / 2
        y = tops[band] + row * ROW + (ROW - height) / 2
        bounds[key] = (x, y, width, height)
        _shape(plane, key, bounds[key], expanded=False if _local(nodes[key]) in SCOPES else None)
    for boundary in (c for c in process if _local(c) == "boundaryEvent"):
        host = bounds.get(boundary.get("attachedToRef", ""))
        if host:
            bounds[boundary.get("id", "")] = (host[0] + host[2] - 28, host[1] + host[3] - 18, 36, 36)
            _shape(plane, boundary.get("id", ""), bounds[boundary.get("id", "")])
    for flow in flows:
        source, target = bounds.get(flow.get("sourceRef", "")), bounds.get(flow.get("targetRef", ""))
        if source and target:
            _edge(plane, flow.get("id", ""), _route(source, target))
    width = left + (max(column.values(), default=0) + 1) * COLUMN
    for i, lane in enumerate(lanes):
        _shape(plane, lane.get("id", ""), (MARGIN + POOL_HEAD, tops[i], width - MARGIN - POOL_HEAD, heights[i]),
               horizontal=True)
    return (MARGIN, top, width - MARGIN, sum(heights))


def _route(source: Box, target: Box) -> list[tuple[float, float]]:
    start = (source[0] + source[2], source[1] + source[3] / 2)
    end = (target[0], target[1] + target[3] / 2)
    if end[0] <= start[0]:  # a way back: under both
        low = max(source[1] + source[3], target[1] + target[3]) + 15
        return [(source[0] + source[2] / 2, source[1] + source[3]), (source[0] + source[2] / 2, low),
                (target[0] + target[2] / 2, low), (target[0] + target[2] / 2, target[1] + target[3])]
    if abs(start[1] - end[1]) < 1:
        return [start, end]
    middle = (start[0] + end[0]) / 2
    return [start, (middle, start[1]), (middle, end[1]), end]


def _shape(plane: etree._Element, element: str, box: Box, expanded: bool | None = None,
           horizontal: bool | None = None) -> None:
    shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{element}_di", bpmnElement=element)
    if expanded is not None:
        shape.set("isExpanded", "false")
    if horizontal is not None:
        shape.set("isHorizontal", "true")
    etree.SubElement(shape, f"{{{DC}}}Bounds", x=_n(box[0]), y=_n(box[1]), width=_n(box[2]), height=_n(box[3]))


def _edge(plane: etree._Element, element: str, points: Iterable[tuple[float, float]]) -> None:
    edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{element}_di", bpmnElement=element)
    for x, y in points:
        etree.SubElement(edge, f"{{{DI}}}waypoint", x=_n(x), y=_n(y))


def _n(value: float) -> str:
    return str(int(round(value)))


def lay_out(root: etree._Element, chosen: str | None = None) -> int:
    """Replace the file's diagram interchange by a drawing of each pool of its collaboration, else of
    the `chosen` process (else the first); the number of shapes drawn."""
    for old in root.findall(f"{{{BPMNDI}}}BPMNDiagram"):
        root.remove(old)
    processes = {p.get("id", ""): p for p in root.findall(f"{{{BPMN}}}process")}
    collaboration = root.find(f"{{{BPMN}}}collaboration")
    diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", nsmap=NSMAP, id="khanton_layout")
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id="khanton_layout_plane")
    top = float(MARGIN)
    if collaboration is not None and collaboration.get("id"):
        plane.set("bpmnElement", collaboration.get("id", ""))
        for participant in collaboration.findall(f"{{{BPMN}}}participant"):
            process = processes.get(participant.get("processRef", ""))
            box = _lay_process(plane, process, top) if process is not None else (MARGIN, top, 600, ROW)
            _shape(plane, participant.get("id", ""), (MARGIN, top, box[2] + 20, box[3]), horizontal=True)
            top += box[3] + GAP
    else:
        first = processes.get(chosen or "", next(iter(processes.values()), None))
        plane.set("bpmnElement", first.get("id", "") if first is not None else "")
        if first is not None:
            _lay_process(plane, first, top)
    # Pools and lanes first, so bpmn-js draws them under their contents.
    shapes = sorted(plane, key=lambda s: 0 if s.get("isHorizontal") else 1)
    plane[:] = shapes
    return sum(1 for s in plane if _local(s) == "BPMNShape")
