"""Import a .bpmn drawn in another tool (Camunda Modeler, Signavio, Bizagi, ARIS, Visio...) as a draft.

Anything well-formed opens: the process to run is chosen (the executable one, else the first with
steps; the others are listed), its id becomes a procedure key, it is marked executable, timers as
other tools write them are read as ISO 8601, and a file without diagram interchange is laid out.
What must still change before it can run is the same list publishing checks (engine.definitions).
Only what cannot be read at all is refused: not XML, a DOCTYPE or entities, over 5 MB, no process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from .. import definitions
from ..db import Database
from ..errors import InvalidData, InvalidDefinition, Problem
from ..models import ProcessVersion
from ..time import iso
from ..xmlsafe import UnsafeXml, read_xml
from . import layout
from .drafts import Draft, get_draft, save_draft

BPMN = layout.BPMN
MAX_CHECKED_NODES = 3000  # beyond this a draft still opens, but is not checked (bounded time)
MAX_CHECKED_ELEMENTS = 10_000  # steps, flows and all: some checks compare gateways with flows
TOOLS = (("camunda.org/schema/zeebe", "Camunda 8 (zeebe:)"), ("camunda.org/schema/1.0/bpmn", "Camunda (camunda:)"),
         ("activiti.org", "Activiti"), ("signavio.com", "Signavio (signavio:)"), ("bizagi.com", "Bizagi (bizagi:)"),
         ("aris", "ARIS"), ("schemas.microsoft.com", "Visio"), ("flowable.org", "Flowable"))
PROLOG = re.compile(r"\A\ufeff?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)  # declaration, comments before the root
FEEL_TIME = re.compile(r"""^(?:cycle\(\s*)?(?:duration|date and time|date)\(\s*["']([^"']+)["']\s*\)(?:\s*\))?$""")
STEPS = layout.ACTIVITIES | layout.GATEWAYS | layout.EVENTS


class Unreadable(InvalidDefinition):
    """The file cannot be read as a BPMN diagram at all; `problems` says why."""

    code = "unreadable"

    def __init__(self, problem: Problem) -> None:
        super().__init__([problem])
        self.message = f"นำเข้าไม่ได้: {problem.message}"


@dataclass
class Prepared:
    key: str
    xml: str
    process: str  # the chosen process's id as the file had it
    name: str
    others: list[str] = field(default_factory=list)  # processes in the file not imported: "id (name)"
    notes: list[str] = field(default_factory=list)  # what the import changed or found, in Thai
    steps: int = 0
    elements: int = 0


@dataclass(frozen=True)
class Imported:
    key: str
    draft: int
    process: str
    name: str
    others: list[str]
    notes: list[str]
    problems: list[Problem]

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "draft": self.draft, "process": self.process, "name": self.name,
                "others": self.others, "notes": self.notes, "problems": [p.as_dict() for p in self.problems]}


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def slug(text: str) -> str:
    """A procedure key from a process id or name: lower case, digits and -, at most 60 characters."""
    words = re.sub(r"([a-z])([A-Z])", r"\1-\2", text)
    key = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")[:60].strip("-")
    return key if key and key[0].isalpha() else f"imported-{key}".strip("-")


def _choose(processes: list[etree._Element]) -> etree._Element:
    for process in processes:
        if process.get("isExecutable") == "true":
            return process
    for process in processes:
        if any(_local(c) in layout.ACTIVITIES for c in process):
            return process
    return processes[0]


def _describe(process: etree._Element) -> str:
    name = process.get("name")
    return f"{process.get('id', '')} ({name})" if name else process.get("id", "")


def prepare(data: bytes | str, key: str | None = None) -> Prepared:
    """Read a file from another tool into what a draft holds; Unreadable when it cannot be read."""
    try:
        root, text = read_xml(data)
    except UnsafeXml as err:
        raise Unreadable(err.problem) from None
    if root.tag != f"{{{BPMN}}}definitions":
        raise Unreadable(Problem(f"ไฟล์ไม่ใช่ BPMN 2.0 (ต้องขึ้นต้นด้วย <definitions> ของ BPMN แต่พบ "
                                 f"<{_local(root)[:60]}>)", line=root.sourceline))
    processes = root.findall(f"{{{BPMN}}}process")
    if not processes:
        raise Unreadable(Problem("ไฟล์ไม่มี process เลย จึงไม่มีขั้นตอนให้นำเข้า", line=root.sourceline))
    if key is not None and not definitions.KEY.match(key):
        raise InvalidData.one("key", "ชื่อกระบวนงานต้องเป็นตัวพิมพ์เล็ก ตัวเลข และ - ขึ้นต้นด้วยตัวอักษร")
    chosen = _choose(processes)
    original = chosen.get("id", "")
    named = slug(chosen.get("name") or "")  # a name in Latin letters says more than a tool's generated id
    prepared = Prepared(key or (named if len(named) >= 3 and not named.startswith("imported") else slug(original)),
                        "", original, chosen.get("name") or original)
    notes = prepared.notes
    namespaces = " ".join(ns for node in root.iter() if isinstance(node.tag, str) for ns in node.nsmap.values())
    found = [name for marker, name in TOOLS if marker in namespaces.lower()]
    if found:
        notes.append(f"พบส่วนขยายของ {', '.join(found)}: ระบบเก็บไว้แต่ไม่ใช้ — กำหนด lane แบบฟอร์ม "
                     "และเงื่อนไขตามแบบของระบบ")
    prepared.others = [_describe(p) for p in processes if p is not chosen]
    if prepared.others:
        notes.append(f"ไฟล์มี {len(processes)} process: นำเข้า {_describe(chosen)} ส่วนที่เหลือเก็บไว้ในไฟล์ "
                     f"แต่ไม่ทำงาน: {', '.join(prepared.others)}")
    if original != prepared.key:
        _rename(root, original, prepared.key)
        notes.append(f"เปลี่ยน id ของ process จาก {original!r} เป็น {prepared.key!r} (ชื่อกระบวนงาน)")
    if chosen.get("isExecutable") != "true":
        notes.append("process ถูกทำเครื่องหมายว่าทำงานไม่ได้ (isExecutable=\"false\"): เปลี่ยนเป็นทำงานได้")
    for process in processes:
        process.set("isExecutable", "true" if process is chosen else "false")
    _timers(root, notes)
    prepared.steps = sum(1 for node in chosen.iter() if _local(node) in STEPS)
    prepared.elements = sum(1 for _ in chosen.iter())
    if not layout.has_shapes(root, chosen):
        drawn = layout.lay_out(root, prepared.key)
        notes.append(f"ไฟล์ไม่มีข้อมูลตำแหน่งของแผนภาพ (diagram interchange): จัดวางให้ใหม่ {drawn} รูป")
    prolog = PROLOG.match(text)
    head = prolog.group(0) if prolog else ""
    if not head.lstrip().startswith("<?xml"):
        head = '<?xml version="1.0" encoding="UTF-8"?>\n' + head
    prepared.xml = head + etree.tostring(root, encoding="unicode")  # the file's own prolog: lines stay
    return prepared


def _rename(root: etree._Element, old: str, new: str) -> None:
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        for attribute in ("id", "processRef", "bpmnElement", "calledElement"):
            if node.get(attribute) == old and (attribute != "id" or _local(node) == "process"):
                node.set(attribute, new)


def _timers(root: etree._Element, notes: list[str]) -> None:
    """`="P7D"`, `=duration("P7D")`, `=cycle(duration("PT1H"))`, `${'P7D'}` as Zeebe (FEEL), Camunda 7
    (JUEL) and others write them: the ISO 8601 inside (engine.time.iso reads it)."""
    changed = 0
    for node in root.iter(*(f"{{{BPMN}}}{tag}" for tag in iso.TAGS)):
        text = (node.text or "").strip()
        inner = FEEL_TIME.sub(r"\1", re.sub(r"^(?:=|\$\{|#\{)\s*", "", text).removesuffix("}").strip())
        inner = inner.strip().strip("'\"")
        if inner != text and iso.is_literal(inner):
            node.text = inner
            changed += 1
    if changed:
        notes.append(f"อ่านค่าตัวจับเวลา {changed} จุดที่เขียนแบบเครื่องมืออื่นเป็น ISO 8601 (เช่น P7D)")


def check(prepared: Prepared, forms_dir: Path, database: Database | None) -> definitions.Definition:
    """The problems publishing would find (the same check), bounded for very large diagrams."""
    name = f"{prepared.key}.bpmn"
    if prepared.steps > MAX_CHECKED_NODES or prepared.elements > MAX_CHECKED_ELEMENTS:
        return definitions.Definition(prepared.key, prepared.name, prepared.xml, {}, {}, [], [Problem(
            f"แผนภาพมี {prepared.steps} ขั้นตอน ({prepared.elements} element) เกินกว่าที่ตรวจได้ "
            f"({MAX_CHECKED_NODES} ขั้นตอน) — แบ่งเป็นหลายกระบวนงาน "
            "แล้วเชื่อมด้วย call activity", element=prepared.key)])
    if database is None:
        return definitions.check_batch([(name, prepared.xml)], forms_dir, None, {name: prepared.key})[0]
    with database.transaction(read_only=True) as session:
        return definitions.check_batch([(name, prepared.xml)], forms_dir, session, {name: prepared.key})[0]


def _free_key(database: Database, key: str) -> str:
    """`key`, or key-2, key-3... when a procedure of that name is published: an import never becomes
    a draft of another procedure unless the analyst names it."""
    with database.transaction(read_only=True) as session:
        taken = set(definitions.latest_versions(session, ProcessVersion.key))
    number = 2
    free = key
    while free in taken:
        free = f"{key[:60]}-{number}"
        number += 1
    return free


def import_diagram(database: Database, forms_dir: Path, data: bytes | str, author: str,
                   key: str | None = None, filename: str = "") -> Imported:
    """Open a file as a new draft with its problems; Unreadable when it cannot be read at all."""
    prepared = prepare(data, key)
    first = prepared.key
    if key is None and (free := _free_key(database, first)) != first:
        prepared = prepare(data, free)
        prepared.notes.append(f"มีกระบวนงานชื่อ {first!r} อยู่แล้ว จึงใช้ชื่อ {free!r}")
    checked = check(prepared, forms_dir, database)
    for problem in checked.problems:
        problem.file = None
    note = f"นำเข้าจาก {filename[:200]}" if filename else "นำเข้าจากไฟล์"
    with database.transaction() as session:
        draft = save_draft(session, prepared.key, prepared.xml, checked.forms, author, note)
    return Imported(prepared.key, draft, prepared.process, prepared.name, prepared.others, prepared.notes,
                    checked.problems)


def recheck(database: Database, forms_dir: Path, draft_id: int) -> tuple[Draft, list[Problem]]:
    """An imported draft and what must still change in it (the same check again, so it is current)."""
    with database.transaction(read_only=True) as session:
        draft = get_draft(session, draft_id)
    prepared = Prepared(draft.key, draft.xml, draft.key, draft.key)
    try:
        process = next(p for p in read_xml(draft.xml)[0].iter(f"{{{BPMN}}}process") if p.get("id") == draft.key)
        prepared.steps = sum(1 for node in process.iter() if _local(node) in STEPS)
        prepared.elements = sum(1 for _ in process.iter())
    except (UnsafeXml, StopIteration):
        pass  # the check says what is wrong with it
    checked = check(prepared, forms_dir, database)
    for problem in checked.problems:
        problem.file = None
    return draft, checked.problems
