"""SpiffWorkflow's parser messages in Thai: an analyst never sees its English or a traceback.

Each known message becomes a Thai one saying what to change, naming the element SpiffWorkflow named
(and its line, found in the file by id, since SpiffWorkflow does not keep lxml's line numbers). An
unknown message gets a general Thai one with the element, and the English is logged for operators.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from lxml import etree

from ..errors import Problem

log = logging.getLogger("khanton.authoring")

Say = Callable[[re.Match[str]], str]
IDENTIFIER_MISSING = "{kind} ในส่วนนิยามของไฟล์ไม่มี id — ตั้ง id ให้ทุก {kind}"
KNOWN: list[tuple[re.Pattern[str], Say]] = [(re.compile(pattern, re.S), say) for pattern, say in [
    (r"When looking for a task spec, we found two items, perhaps a form has the same ID\? \((.*)\)",
     lambda m: f"เส้นทางจากขั้นตอนนี้ชี้ไปยัง {m[1]!r} ซึ่งไม่พบเป็นขั้นตอนเดียวใน process เดียวกัน (ไม่มีอยู่ "
               "หรือมีหลาย element ใช้ id เดียวกัน) — ตรวจ targetRef ของเส้นทาง และให้ทุก element มี id ไม่ซ้ำกัน"),
    (r"Non-default exclusive outgoing sequence flow without condition",
     lambda m: "เส้นทางที่ออกจากเกตเวย์นี้ไม่มีเงื่อนไขและไม่ใช่ทางปริยาย (default) — เขียนเงื่อนไข "
               "หรือกำหนดเส้นทางนี้เป็นทางปริยายของเกตเวย์"),
    (r"Multiple outgoing flows are not supported for tasks of type",
     lambda m: "ขั้นตอนชนิดนี้มีเส้นทางออกได้เส้นเดียว — ใช้เกตเวย์เพื่อแยกทาง"),
    (r"No start event found", lambda m: "process นี้ไม่มีจุดเริ่มต้น (start event) — เพิ่ม start event"),
    (r"Process (.*) is not executable\.",
     lambda m: f"process {m[1]} ถูกทำเครื่องหมายว่าทำงานไม่ได้ (isExecutable=\"false\") — ตั้ง isExecutable "
               "เป็น true ก่อนเผยแพร่"),
    (r"Duplicate process ID: (.*)", lambda m: f"มี process id {m[1]!r} ซ้ำกันมากกว่าหนึ่ง — ตั้ง id ให้ไม่ซ้ำกัน"),
    (r"The process '(.*?)' was not found\..*",
     lambda m: f"ไม่พบ process {m[1]!r} ที่ถูกเรียก — เผยแพร่กระบวนงานนั้นก่อน หรือแก้ชื่อที่เรียก"),
    (r"Exactly one start event is required in a SubWorkflow Task; found (\d+)\.",
     lambda m: f"sub-process ต้องมีจุดเริ่มต้น (start event) หนึ่งจุดพอดี (พบ {m[1]} จุด)"),
    (r"A SubWorkflow Must contain an End event",
     lambda m: "sub-process ต้องมีจุดสิ้นสุด (end event) อย่างน้อยหนึ่งจุด"),
    (r'No "calledElement" attribute for Call Activity\.',
     lambda m: "call activity ต้องระบุกระบวนงานที่เรียก (calledElement)"),
    (r"Invalid Script Task\.\s+No Script Provided\..*", lambda m: "script task ต้องมีสคริปต์ — เขียนสคริปต์หรือลบขั้นตอนนี้"),
    (r"Unknown Time Specification",
     lambda m: "ตัวจับเวลาต้องระบุอย่างใดอย่างหนึ่ง: วันเวลา (timeDate), ระยะเวลา (timeDuration) หรือรอบ (timeCycle)"),
    (r"Time Specification Error\..*",
     lambda m: "ค่าเวลาของตัวจับเวลาไม่ถูกต้อง — ใช้รูปแบบ ISO 8601 เช่น P7D หรือ R4/2026-10-01/P3M"),
    (r"Conditional event definition with missing condition",
     lambda m: "เหตุการณ์แบบมีเงื่อนไข (conditional event) ต้องระบุเงื่อนไข"),
    (r"There is no support implemented for this task type\.",
     lambda m: "ระบบยังไม่รองรับ element ชนิดนี้ — เปลี่ยนเป็นงานของผู้ใช้ งานทั่วไป หรือ script task"),
    (r"A Service Task must have an operator",
     lambda m: "service task ต้องระบุบริการที่เรียก (serviceTaskOperator) — หรือเปลี่ยนเป็นงานของผู้ใช้"),
    (r"Could not find messageRef from message event definition: (.*)",
     lambda m: "message event ต้องอ้างถึง message (messageRef)"),
    (r"(Message|Signal|Error|Escalation|Correlation|Data Store) identifier is missing.*",
     lambda m: IDENTIFIER_MISSING.format(kind=m[1].lower())),
    (r"Correlation is missing correlation property retrieval expressions: (.*)",
     lambda m: f"correlation {m[1]!r} ต้องมี correlationPropertyRetrievalExpression"),
    (r"Message identifier is missing from correlation property: (.*)",
     lambda m: f"correlation property {m[1]!r} ต้องระบุ message"),
    (r"Data Store (?:name is missing|with name (.*) has no implementation).*",
     lambda m: "ระบบไม่รองรับ data store นี้ — ลบ data store ออกจากแผนภาพ"),
    (r"Cannot resolve data(Input|Output)Association (.*)",
     lambda m: f"การเชื่อมข้อมูล ({m[1].lower()}) อ้างถึง {m[2]!r} ซึ่งไม่มีอยู่ — ลบเส้นเชื่อมหรือเพิ่ม data object"),
    (r"Ad hoc subprocesses may not contain start or end events",
     lambda m: "ad-hoc sub-process มี start event หรือ end event ไม่ได้"),
    (r"Sequential ordering for ad hoc subprocesses not supported",
     lambda m: "ระบบไม่รองรับ ad-hoc sub-process แบบตามลำดับ (sequential)"),
    (r"Element '(?:\{[^}]*\})?([^']+)'.*",
     lambda m: f"ไฟล์ไม่ตรงตามโครงสร้างมาตรฐาน BPMN 2.0 ที่ element <{m[1]}> — เปิดและบันทึกใหม่ด้วยตัวแก้ไขแผนภาพ"),
]]
UNKNOWN = ("ตัวอ่านแผนภาพ (SpiffWorkflow) ไม่รับนิยามนี้ที่ element ที่ระบุ — ตรวจ element นั้นในตัวแก้ไขแผนภาพ "
           "(รายละเอียดภาษาอังกฤษถูกบันทึกไว้ให้ผู้ดูแลระบบ)")


def thai(message: str) -> str | None:
    """The Thai for a known SpiffWorkflow message, or None."""
    for pattern, say in KNOWN:
        match = pattern.fullmatch(message.strip())
        if match:
            return say(match)
    return None


def line_of(xml: str | bytes | None, element: str | None) -> int | None:
    """The line of the element with this id in the file (the first, if several share it)."""
    if not xml or not element:
        return None
    try:
        from ..xmlsafe import parse_xml

        root = parse_xml(xml)
    except ValueError:
        return None
    found = root.xpath("//*[@id=$id]", id=element)
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        line: int | None = found[0].sourceline
        return line
    return None


def problem(message: str, element: str | None = None, line: int | None = None,
            xml: str | bytes | None = None, kind: str = "ValidationException") -> Problem:
    """A SpiffWorkflow message as a Problem in Thai, with the element and its line."""
    said = thai(message)
    if said is None:
        log.warning("SpiffWorkflow %s not translated (element %s): %s", kind, element, message[:2000])
        said = UNKNOWN
    return Problem(said, element=element or None, line=line or line_of(xml, element))


def from_exception(err: Exception, xml: str | bytes | None = None) -> Problem:
    """Any exception SpiffWorkflow's parser raised, as a Problem (ValidationException carries an id)."""
    message = str(err.args[0]) if err.args else str(err)
    element = getattr(err, "id", None) or None
    line = getattr(err, "line_number", None)
    return problem(message, element if isinstance(element, str) else None,
                   line if isinstance(line, int) else None, xml, type(err).__name__)
