"""Write docs/procedures.md: one table per procedure of its user tasks, lanes and forms.

Usage: python scripts/procedure_table.py           (writes docs/procedures.md)
       python scripts/procedure_table.py --check   (exit 1 if docs/procedures.md is out of date)

Reads every processes/*.bpmn and the forms its user tasks name (forms/<key>/<task>.json, via the
SpiffArena property formJsonSchemaFilename), plus forms/<key>/start.json when present. Steps are
listed in flow order: breadth-first from the start event along the sequence flows, each with its
section and step in the manual (the task's manualRef property), never a number of our own. After
each table come the procedure's decisions (exclusive gateways): their outcomes, and the gateway's
documentation, which quotes the manual's words for the decision or says what justifies an added step.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
OUTPUT = ROOT / "docs" / "procedures.md"

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}

# The procedures in the order of the manual; keys not listed here come last, alphabetically.
KEY_ORDER: dict[str, int] = {
    key: i
    for i, key in enumerate(
        [
            "admin-office",
            "policy-development",
            "basic-education-plan",
            "annual-action-plan",
            "school-establishment",
            "expenditure-analysis",
            "budget-request",
            "external-resources",
            "budget-allocation",
            "spending-plan",
            "budget-transfer",
            "policy-monitoring",
            "inspection-reporting",
            "strategy-evaluation",
            "development-plan-evaluation",
            "action-plan-evaluation",
            "me-system-development",
            "monitor-and-report",
        ]
    )
}

FLOW_NODES = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "transaction",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
}
TITLE_MAX = 40


@dataclass
class Step:
    task_id: str
    name: str
    lane_id: str
    lane_name: str
    form: str | None
    multi_instance: str | None = None
    manual_ref: str | None = None


@dataclass
class Outcome:
    name: str
    target: str
    target_name: str
    default: bool = False


@dataclass
class Decision:
    gateway_id: str
    name: str
    documentation: str
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass
class Call:
    task_id: str
    name: str
    called: str
    lane_id: str


@dataclass
class Procedure:
    key: str
    name: str
    steps: list[Step] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    times: list[str] = field(default_factory=list)  # timers, answer-by dates, due rules, scheduled starts


TIMER_TAGS = {"timeDate": "วันเวลา", "timeDuration": "ระยะเวลา", "timeCycle": "รอบเวลา"}


def timer_text(node: Any) -> str | None:
    """A timer event's ISO 8601 text as the diagram writes it (`R/P7D`), or None if it is no timer."""
    definition = node.find("bpmn:timerEventDefinition", NS)
    if definition is None:
        return None
    for tag in TIMER_TAGS:
        text = one_line(definition.findtext(f"bpmn:{tag}", "", NS))
        if text:
            return f"{TIMER_TAGS[tag]} `{cell(text)}`"
    return "(ไม่ระบุเวลา)"


def timing(node: Any, nodes: dict[str, Any]) -> list[str]:
    """What keeps time at this node, one line each, for the section under the procedure's table."""
    kind, name, node_id = local(node.tag), cell(one_line(node.get("name"))), node.get("id")
    timer = timer_text(node)
    found = []
    if kind == "startEvent" and timer:
        filled = "ปีงบประมาณ พ.ศ." if "P1Y" in timer else "ปีงบประมาณ พ.ศ. และไตรมาส"
        found.append(f"เริ่มเองตามกำหนดเวลา: {name} {timer} `{node_id}` (หนึ่งกระบวนงานต่อหนึ่งรอบ "
                     f"ระบบใส่{filled}ให้)")
    elif kind == "boundaryEvent" and timer:
        task = nodes.get(node.get("attachedToRef"))
        task_name = cell(one_line(task.get("name"))) if task is not None else node.get("attachedToRef")
        what = ("เตือน (งานยังอยู่ที่เดิม)" if node.get("cancelActivity") == "false"
                else "เกินกำหนด (งานถูกยกเลิกและส่งต่อตามแผนภาพ)")
        found.append(f"{what}: {name} {timer} `{node_id}` บนขั้นตอน {task_name} `{node.get('attachedToRef')}`")
    elif kind == "intermediateCatchEvent" and timer:
        found.append(f"รอ: {name} {timer} `{node_id}`")
    elif kind in ("userTask", "manualTask"):
        due = spiff_property(node, "dueIn")
        if due:
            found.append(f"กำหนดเสร็จ: {name} `{node_id}` ภายใน {cell(due)}")
        answer_by, chosen = spiff_property(node, "answerBy"), spiff_property(node, "answerByField")
        if answer_by or chosen:
            source = f"วันที่เจ้าหน้าที่เลือกในช่อง `{chosen}` เมื่อส่งรอบ" if chosen else ""
            default = f"ค่าเริ่มต้น {cell(answer_by)}" if answer_by else ""
            found.append(f"กำหนดตอบของแต่ละสถานศึกษา: {name} `{node_id}` — "
                         + (f"{source} หรือ{default} หากไม่ได้เลือก" if source and default else source or default)
                         + " เลยกำหนดแล้วเจ้าหน้าที่ปิดรอบที่ยังไม่ตอบและดำเนินการต่อได้")
    return found


def parse_xml(path: Path) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
    return etree.parse(str(path), parser).getroot()


def local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def spiff_property(node: Any, name: str) -> str | None:
    for prop in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        if prop.get("name") == name:
            value = prop.get("value")
            return str(value) if value else None
    return None


def form_property(node: Any) -> str | None:
    return spiff_property(node, "formJsonSchemaFilename")


def decision(node: Any, nodes: dict[str, Any], flows: list[Any]) -> Decision:
    """An exclusive gateway: its question, the manual's words for it, and where each answer leads."""
    doc = "\n".join(one_line(d.text) for d in node.iterfind("bpmn:documentation", NS) if one_line(d.text))
    made = Decision(node.get("id"), one_line(node.get("name")), doc)
    for flow in flows:
        if flow.get("sourceRef") != node.get("id"):
            continue
        target = nodes.get(flow.get("targetRef"))
        target_name = one_line(target.get("name")) if target is not None else ""
        label = one_line(flow.get("name")) or one_line(flow.findtext("bpmn:conditionExpression", "", NS))
        made.outcomes.append(Outcome(label or "—", flow.get("targetRef") or "", target_name,
                                     node.get("default") == flow.get("id")))
    return made


def multi_instance(node: Any) -> str | None:
    loop = node.find("bpmn:multiInstanceLoopCharacteristics", NS)
    if loop is None:
        return None
    source = loop.findtext("bpmn:loopDataInputRef", default="", namespaces=NS).strip()
    return source or "loop"


def walk(container: Any, lanes: dict[str, tuple[str, str]], proc: Procedure) -> None:
    """Breadth-first from the container's start events along its sequence flows."""
    nodes = {n.get("id"): n for n in container if local(n.tag) in FLOW_NODES}
    outgoing: dict[str, list[str]] = {}
    for flow in container.iterfind("bpmn:sequenceFlow", NS):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    starts = [nid for nid, n in nodes.items() if local(n.tag) == "startEvent"]
    queue: deque[str] = deque(starts)
    seen: set[str] = set(starts)
    while queue:
        node_id = queue.popleft()
        node = nodes.get(node_id)
        if node is None:
            continue
        kind = local(node.tag)
        lane_id, lane_name = lanes.get(node_id, ("", ""))
        proc.times += timing(node, nodes)
        if kind == "userTask":
            proc.steps.append(
                Step(
                    node_id,
                    one_line(node.get("name")),
                    lane_id,
                    lane_name,
                    form_property(node),
                    multi_instance(node),
                    spiff_property(node, "manualRef"),
                )
            )
        elif kind == "exclusiveGateway":
            proc.decisions.append(decision(node, nodes, list(container.iterfind("bpmn:sequenceFlow", NS))))
        elif kind == "callActivity":
            called = node.get("calledElement") or ""
            proc.calls.append(Call(node_id, one_line(node.get("name")), called, lane_id))
        elif kind in ("subProcess", "transaction"):
            walk(node, lanes, proc)
        # boundary events hang off their activity, not off a sequence flow
        attached = [
            b.get("id")
            for b in nodes.values()
            if local(b.tag) == "boundaryEvent" and b.get("attachedToRef") == node_id
        ]
        for target in outgoing.get(node_id, []) + attached:
            if target not in seen:
                seen.add(target)
                queue.append(target)


def read_procedure(path: Path) -> Procedure:
    root = parse_xml(path)
    processes = root.findall("bpmn:process", NS)
    process = next((p for p in processes if p.get("id") == path.stem), processes[0] if processes else None)
    if process is None:
        return Procedure(path.stem, "(ไม่พบ bpmn:process)")
    lanes: dict[str, tuple[str, str]] = {}
    for lane in process.iter(f"{{{BPMN}}}lane"):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[(ref.text or "").strip()] = (lane.get("id") or "", one_line(lane.get("name")))
    proc = Procedure(process.get("id") or path.stem, one_line(process.get("name")))
    walk(process, lanes, proc)
    return proc


def load_form(relative: str) -> dict[str, Any] | None:
    path = FORMS / relative
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def short(text: str) -> str:
    text = one_line(text)
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1] + "…"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def fields_cell(schema: dict[str, Any] | None) -> str:
    if schema is None:
        return "—"
    props = schema.get("properties")
    if not isinstance(props, dict) or not props:
        return "—"
    required = set(schema.get("required") or [])
    parts = []
    for name, prop in props.items():
        prop = prop if isinstance(prop, dict) else {}
        mark = "\\*" if name in required else ""
        table = "[]" if prop.get("type") == "array" else ""
        title = short(str(prop.get("title", "")))
        rules = "".join(f" ({what} `{prop[key]}`)" for key, what in (("x-computed", "= คำนวณ"), ("x-at-most", "≤"))
                        if isinstance(prop.get(key), str))
        parts.append(f"`{name}{table}`{mark} {title}{rules}".rstrip())
    signed = schema.get("x-signed-document")
    if isinstance(signed, dict) and signed.get("title"):
        parts.append(f"📎 ต้องแนบ{short(str(signed['title']))}")
    return cell("<br>".join(parts))


def form_link(relative: str | None) -> str:
    if not relative:
        return "— (ไม่มีแบบฟอร์ม)"
    missing = "" if (FORMS / relative).is_file() else " (ไม่พบไฟล์)"
    return f"[{cell(relative)}](../forms/{relative}){missing}"


def render_procedure(proc: Procedure) -> list[str]:
    out = [f"## `{proc.key}` — {proc.name}", "", f"![{proc.key}](diagrams/{proc.key}.png)", ""]
    start = f"{proc.key}/start.json"
    if (FORMS / start).is_file():
        start_fields = fields_cell(load_form(start)).replace("<br>", "; ")
        out += [f"ข้อมูลเริ่มต้น ([{start}](../forms/{start})): {start_fields}", ""]
    if proc.steps:
        out += ["| ตามคู่มือ | ขั้นตอน | ผู้ปฏิบัติ (lane) | แบบฟอร์ม | ข้อมูลในแบบฟอร์ม |", "|---|---|---|---|---|"]
        for step in proc.steps:
            number = cell(step.manual_ref) if step.manual_ref else "—"
            name = cell(step.name)
            if step.multi_instance:
                name += f" <br>_(ทีละรายการของ `{cell(step.multi_instance)}`)_"
            lane = f"`{step.lane_id}` {cell(step.lane_name)}" if step.lane_id else "—"
            fields = fields_cell(load_form(step.form)) if step.form else "—"
            form = form_link(step.form)
            out.append(f"| {number} | {name} <br>`{step.task_id}` | {lane} | {form} | {fields} |")
        out.append("")
    else:
        out += ["_ไม่มีงานของผู้ใช้ (user task)_", ""]
    for call in proc.calls:
        out.append(
            f"- เรียกกระบวนการย่อย (call activity) `{call.task_id}` {cell(call.name)} → "
            f"`{call.called}`" + (f" ในช่อง `{call.lane_id}`" if call.lane_id else "")
        )
    if proc.calls:
        out.append("")
    if proc.times:
        out += ["เวลาในกระบวนงาน (ตัวจับเวลา กำหนดตอบ กำหนดเสร็จ และการเริ่มเอง):", ""]
        out += [f"- {line}" for line in proc.times]
        out.append("")
    if proc.decisions:
        out += ["การตัดสินใจ (exclusive gateway) ผลแต่ละทาง และถ้อยคำของคู่มือ:", ""]
        for made in proc.decisions:
            out.append(f"- **{cell(made.name or made.gateway_id)}** `{made.gateway_id}`")
            for line in made.documentation.split("\n") if made.documentation else []:
                out.append(f"  > {cell(line)}")
            if not made.documentation:
                out.append("  > _(ยังไม่มีคำอธิบายจากคู่มือใน bpmn:documentation)_")
            for outcome in made.outcomes:
                default = " (ทางปกติ)" if outcome.default else ""
                out.append(f"  - {cell(outcome.name)}{default} → {cell(outcome.target_name or outcome.target)}"
                           f" `{outcome.target}`")
        out.append("")
    return out


def sort_key(proc: Procedure) -> tuple[int, str]:
    return (KEY_ORDER.get(proc.key, len(KEY_ORDER)), proc.key)


def build() -> str:
    procedures = sorted((read_procedure(p) for p in sorted(PROCESSES.glob("*.bpmn"))), key=sort_key)
    lines = [
        "# ขั้นตอนงานของกลุ่มนโยบายและแผน (Procedures)",
        "",
        "<!-- Generated by scripts/procedure_table.py from processes/*.bpmn and forms/."
        " Do not edit by hand. -->",
        "",
        "ตารางขั้นตอนของแต่ละกระบวนงาน เรียงตามลำดับการไหลของงาน (breadth-first จากเหตุการณ์เริ่มต้น) "
        "ช่อง “ตามคู่มือ” คือข้อและขั้นที่ของขั้นตอนนั้นในคู่มือการปฏิบัติงาน (manualRef ใน BPMN) "
        "ชื่อช่องข้อมูลที่มี * เป็นข้อมูลที่ต้องกรอก [] เป็นตารางรายการ “= คำนวณ” เป็นตัวเลขที่ระบบคำนวณให้ "
        "“≤” เป็นเพดานที่ตัวเลขต้องไม่เกิน และ 📎 เป็นเอกสารลงนามที่ต้องแนบ "
        "ใต้ตารางคือการตัดสินใจแต่ละจุด ผลแต่ละทาง และถ้อยคำของคู่มือที่เป็นที่มา",
        "",
    ]
    for proc in procedures:
        lines.append(f"- [`{proc.key}` {proc.name}](#{proc.key})")
    lines.append("")
    for proc in procedures:
        lines.append(f'<a id="{proc.key}"></a>')
        lines.append("")
        lines += render_procedure(proc)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/procedures.md is out of date")
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else None
        if current != text:
            print(
                f"{OUTPUT.relative_to(ROOT)} is out of date: run python scripts/procedure_table.py",
                file=sys.stderr,
            )
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with OUTPUT.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
