"""The analyst's workbench behind the editor pages and their API: open a procedure (its latest version,
a draft, or a new one from a template), keep drafts, check a draft as publishing would, publish it.

Only analysts: every entry checks the role, so the pages and the API refuse alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from ..accounts import Actor
from ..definitions import KEY, check_batch, latest_versions
from ..errors import Forbidden, InvalidData, KhantonError, NotFound, Problem
from ..forms import FORM_PATH, load_form
from ..people import lanes as lane_table
from ..publishing import Published, Publisher
from . import drafts

REFUSED = "เฉพาะนักวิเคราะห์กระบวนงาน (analyst) เท่านั้นที่ใช้เครื่องมือแก้ไขกระบวนงานได้"


@dataclass(frozen=True)
class Opening:
    """What the editor opens: the XML, the forms edited beside it, where it came from, the lanes."""

    key: str
    name: str
    xml: str
    forms: dict[str, Any]
    version: int | None  # the published version it starts from (None: a new procedure)
    draft: drafts.DraftSummary | None
    drafts: list[drafts.DraftSummary]
    lanes: list[lane_table.LaneInfo]


def template(key: str, name: str, lane: str, lane_name: str) -> str:
    """A new procedure: a start, one user task in a lane, an end — drawn, so the modeler shows it."""
    if not KEY.match(key):
        raise KhantonError("ชื่อกระบวนงาน (key) ต้องขึ้นต้นด้วยอักษรอังกฤษตัวเล็ก ตามด้วยตัวเล็ก ตัวเลข หรือ - เท่านั้น")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_{key.replace('-', '_')}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="Collaboration_1">
    <bpmn:participant id="Participant_1" name={quoteattr(name)} processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name={quoteattr(name)} isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="{lane}" name={quoteattr(lane_name)}>
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>first_step</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="เริ่ม"><bpmn:outgoing>to_first</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="first_step" name="ขั้นที่ 1">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="{key}/first_step.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>to_first</bpmn:incoming><bpmn:outgoing>to_end</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="เสร็จ"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="to_first" sourceRef="start" targetRef="first_step" />
    <bpmn:sequenceFlow id="to_end" sourceRef="first_step" targetRef="end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_1">
    <bpmndi:BPMNPlane id="Plane_1" bpmnElement="Collaboration_1">
      <bpmndi:BPMNShape id="Participant_1_di" bpmnElement="Participant_1" isHorizontal="true">
        <dc:Bounds x="120" y="80" width="600" height="200" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{lane}_di" bpmnElement="{lane}" isHorizontal="true">
        <dc:Bounds x="150" y="80" width="570" height="200" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="212" y="162" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="first_step_di" bpmnElement="first_step">
        <dc:Bounds x="320" y="140" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="512" y="162" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="to_first_di" bpmnElement="to_first">
        <di:waypoint x="248" y="180" /><di:waypoint x="320" y="180" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="to_end_di" bpmnElement="to_end">
        <di:waypoint x="420" y="180" /><di:waypoint x="512" y="180" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


NEW_FORM = {"type": "object", "title": "", "properties": {}, "required": []}


class Workbench:
    """The editor's engine side, over the publisher (the same checks and publishing path as `PUT`)."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher

    @staticmethod
    def _analyst(actor: Actor) -> None:
        if "analyst" not in actor.roles:
            raise Forbidden(REFUSED)

    def lanes(self, actor: Actor) -> list[lane_table.LaneInfo]:
        self._analyst(actor)
        with self.publisher.db.transaction(read_only=True) as session:
            return lane_table.all_lanes(session)

    def open(self, key: str, actor: Actor, draft_id: int | None = None,
             new: tuple[str, str] | None = None) -> Opening:
        """The latest version of `key`, or its draft `draft_id`, or (`new`: name, lane) a new procedure."""
        self._analyst(actor)
        with self.publisher.db.transaction(read_only=True) as session:
            known = lane_table.all_lanes(session)
            latest = latest_versions(session).get(key)
            listed = drafts.drafts(session, key)
            if draft_id is not None:
                kept = drafts.draft(session, key, draft_id)
                name = latest.name if latest else key
                return Opening(key, name, kept.xml, kept.forms, latest.version if latest else None, kept.summary,
                               listed, known)
            if new is not None:
                if latest is not None:
                    raise KhantonError(f"มีกระบวนงาน {key} อยู่แล้ว กรุณาแก้ไขกระบวนงานเดิมหรือตั้งชื่ออื่น")
                name, lane = new
                names = {info.key: info.name for info in known}
                if lane not in names:
                    raise KhantonError(f"ไม่รู้จัก lane {lane[:64]!r}: เลือกจากรายชื่อ lane ของสำนักงาน")
                forms = {f"{key}/first_step.json": {**NEW_FORM, "title": "ขั้นที่ 1"}}
                return Opening(key, name, template(key, name, lane, names[lane]), forms, None, None, listed, known)
            if latest is None:
                raise NotFound(f"ไม่พบกระบวนงาน {key}")
            return Opening(key, latest.name, latest.bpmn_xml, {}, latest.version, None, listed, known)

    def form(self, key: str, path: str, actor: Actor) -> dict[str, Any] | None:
        """A form as the latest version of `key` keeps it, else the forms folder's file, else None (new)."""
        self._analyst(actor)
        if not FORM_PATH.match(path):
            raise KhantonError(f"ชื่อไฟล์แบบฟอร์ม {path[:80]!r} ไม่ถูกรูปแบบ (ต้องเป็น <key>/<ชื่อ>.json)")
        with self.publisher.db.transaction(read_only=True) as session:
            latest = latest_versions(session).get(key)
        if latest is not None and path in latest.forms:
            return dict(latest.forms[path])
        file = self.publisher.forms_dir / path
        if file.is_file():
            try:
                return load_form(self.publisher.forms_dir, path)
            except ValueError:
                return None
        return None

    def save(self, key: str, xml: str, forms: dict[str, Any], actor: Actor, note: str = "") -> int:
        self._analyst(actor)
        with self.publisher.db.transaction() as session:
            return drafts.save_draft(session, key, xml, forms, actor.username, note)

    def _forms(self, key: str, forms: dict[str, Any]) -> dict[str, Any]:
        """The forms the latest version keeps (the analyst may have edited them before), then the draft's."""
        with self.publisher.db.transaction(read_only=True) as session:
            latest = latest_versions(session).get(key)
        return {**(latest.forms if latest else {}), **forms}

    def check(self, key: str, xml: str, forms: dict[str, Any], actor: Actor) -> list[Problem]:
        """Every problem publishing would refuse, each with its element and line (none: publishable)."""
        self._analyst(actor)
        errors = drafts.refusals(key, xml, forms, "")
        if errors:
            return [Problem(e.message) for e in errors]
        with self.publisher.db.transaction(read_only=True) as session:
            checked = check_batch([(f"{key}.bpmn", xml)], self.publisher.forms_dir, session, {f"{key}.bpmn": key},
                                  form_overrides=self._forms(key, forms))
        return [p for d in checked for p in d.problems]

    def publish(self, key: str, xml: str, forms: dict[str, Any], actor: Actor, note: str = "",
                address: str | None = None) -> Published:
        """A new version (InvalidDefinition, with every problem, while there are any)."""
        self._analyst(actor)
        errors = drafts.refusals(key, xml, forms, note)
        if errors:
            raise InvalidData(errors)
        return self.publisher.publish_xml(key, xml, actor, forms=self._forms(key, forms), note=note.strip(),
                                          address=address)

    def publish_draft(self, key: str, draft_id: int, actor: Actor, note: str = "",
                      address: str | None = None) -> Published:
        self._analyst(actor)
        with self.publisher.db.transaction(read_only=True) as session:
            kept = drafts.draft(session, key, draft_id)
        return self.publish(key, kept.xml, kept.forms, actor, note or kept.summary.note, address)
