"""Two published versions of a procedure compared: elements added, removed and changed, and forms field
by field. The elements come from SpiffWorkflow's own spec diff (`SpiffWorkflow.bpmn.util.diff.SpecDiff`),
which aligns task specs by BPMN id and, failing that, by position (a step replaced in place is "changed",
not "removed and added"): the same alignment that moving a running instance uses (authoring.migration).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import ProcessVersion
from ..runtime import versions
from ..runtime.versions import CompiledVersion
from ..spiff import SERIALIZER

ADDED, REMOVED, CHANGED = "added", "removed", "changed"

# What each changed attribute of a task spec means to an analyst (SpiffWorkflow's serialized names).
ATTRIBUTES = {
    "typename": "ชนิดของขั้นตอน", "bpmn_name": "ชื่อขั้นตอน", "lane": "lane (ผู้รับผิดชอบ)",
    "extensions": "คุณสมบัติ (แบบฟอร์ม/กำหนดเวลา/อ้างอิงคู่มือ)", "outputs": "เส้นทางออก",
    "inputs": "เส้นทางเข้า", "cond_task_specs": "เงื่อนไขของเส้นทาง", "default_task_spec": "เส้นทางปริยาย",
    "documentation": "คำอธิบาย", "script": "สคริปต์", "prescript": "สคริปต์ก่อนเริ่ม",
    "postscript": "สคริปต์หลังจบ", "event_definition": "นิยามเหตุการณ์", "bpmn_id": "รหัสขั้นตอน",
    "data_input_associations": "ข้อมูลเข้า", "data_output_associations": "ข้อมูลออก",
    "io_specification": "ข้อมูลเข้า/ออก", "spec": "กระบวนงานที่เรียก", "condition": "เงื่อนไข",
    "cardinality": "จำนวนรอบ", "data_input": "ข้อมูลเข้า (หลายรอบ)", "data_output": "ข้อมูลออก (หลายรอบ)",
    "input_item": "รายการเข้า (หลายรอบ)", "output_item": "รายการออก (หลายรอบ)",
}
# A form field's keywords worth naming when they change.
FIELD_KEYWORDS = ("type", "title", "enum", "format", "minimum", "maximum", "minLength", "maxLength",
                  "pattern", "description", "items", "default")


@dataclass(frozen=True)
class ElementChange:
    """One BPMN element (a task spec SpiffWorkflow built from it) added, removed or changed."""

    kind: str  # added, removed, changed
    process: str  # the process (or embedded sub-process) it belongs to
    element: str  # its BPMN id in the version it exists in (the newer one when changed)
    name: str
    type: str  # SpiffWorkflow's spec type, e.g. UserTask
    was: str | None = None  # changed: its id in the older version, when aligned by position
    attributes: tuple[str, ...] = ()  # changed: what changed, SpiffWorkflow's names
    described: tuple[str, ...] = ()  # the same in Thai


@dataclass(frozen=True)
class FieldChange:
    kind: str  # added, removed, changed
    field: str  # dotted path: "items.amount"
    title: str
    keywords: tuple[str, ...] = ()  # changed: which JSON Schema keywords (required included)
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class FormChange:
    kind: str  # added, removed, changed
    form: str  # its path, e.g. budget-transfer/allocate.json
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class Comparison:
    key: str
    older: int
    newer: int
    elements: tuple[ElementChange, ...] = ()
    forms: tuple[FormChange, ...] = ()

    def of(self, kind: str) -> list[ElementChange]:
        return [e for e in self.elements if e.kind == kind]

    @property
    def added(self) -> list[ElementChange]:
        return self.of(ADDED)

    @property
    def removed(self) -> list[ElementChange]:
        return self.of(REMOVED)

    @property
    def changed(self) -> list[ElementChange]:
        return self.of(CHANGED)

    @property
    def same(self) -> bool:
        return not self.elements and not self.forms

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "from": self.older, "to": self.newer,
                "added": [asdict(e) for e in self.added], "removed": [asdict(e) for e in self.removed],
                "changed": [asdict(e) for e in self.changed], "forms": [asdict(f) for f in self.forms]}


def version_id(session: Session, key: str, number: int) -> int:
    found = session.scalar(select(ProcessVersion.id).where(ProcessVersion.key == key,
                                                            ProcessVersion.version == number))
    if found is None:
        raise NotFound(f"ไม่พบรุ่นที่ {number} ของกระบวนงาน {key}")
    return found


def _bpmn(spec: Any) -> bool:
    """A spec drawn on the diagram (SpiffWorkflow adds its own: Start, End, joins of boundary events)."""
    return getattr(spec, "bpmn_id", None) is not None


def _element(kind: str, process: str, spec: Any, was: Any = None, attributes: list[str] | None = None) -> ElementChange:
    names = tuple(attributes or ())
    return ElementChange(kind, process, spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, type(spec).__name__,
                         was.bpmn_id if was is not None and was.bpmn_id != spec.bpmn_id else None, names,
                         tuple(ATTRIBUTES.get(a, a) for a in names))


def spec_changes(process: str, older: Any, newer: Any) -> list[ElementChange]:
    """The elements of one process spec that differ, as SpecDiff aligns them."""
    diff = SpecDiff(SERIALIZER.registry, older, newer)
    found = [_element(ADDED, process, s) for s in diff.added if _bpmn(s)]
    found += [_element(REMOVED, process, s) for s in diff.removed if s is not None and _bpmn(s)]
    for old, attributes in diff.changed.items():
        new = diff.alignment.get(old)
        if new is None or not _bpmn(new):
            continue
        # A change of outputs alone, with the same targets by id, is the alignment's own bookkeeping.
        if attributes == ["outputs"] and [o.name for o in old.outputs] == [o.name for o in new.outputs]:
            continue
        found.append(_element(CHANGED, process, new, old, attributes))
    return found


def _fields(schema: Mapping[str, Any], prefix: str = "") -> dict[str, tuple[Mapping[str, Any], bool]]:
    """A form's fields by dotted path (objects and arrays of objects looked into), each with required."""
    out: dict[str, tuple[Mapping[str, Any], bool]] = {}
    required = set(schema.get("required", []) or [])
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        return out
    for name, sub in properties.items():
        if not isinstance(sub, Mapping):
            continue
        path = f"{prefix}{name}"
        out[path] = (sub, name in required)
        if sub.get("type") == "object":
            out.update(_fields(sub, path + "."))
        items = sub.get("items")
        if isinstance(items, Mapping) and items.get("type") == "object":
            out.update(_fields(items, path + "[]."))
    return out


def _brief(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= 120 else text[:117] + "..."


def form_changes(name: str, older: Mapping[str, Any] | None, newer: Mapping[str, Any] | None) -> FormChange | None:
    """One form compared field by field; None when it did not change."""
    if older is None and newer is None:
        return None
    if older is None or newer is None:
        kind = ADDED if older is None else REMOVED
        fields = _fields(newer if newer is not None else older or {})
        return FormChange(kind, name, tuple(FieldChange(kind, path, str(sub.get("title", path)))
                                            for path, (sub, _) in fields.items()))
    before, after = _fields(older), _fields(newer)
    changes: list[FieldChange] = []
    for path, (sub, _) in after.items():
        if path not in before:
            changes.append(FieldChange(ADDED, path, str(sub.get("title", path)), after=_brief(sub.get("type", ""))))
    for path, (sub, _) in before.items():
        if path not in after:
            changes.append(FieldChange(REMOVED, path, str(sub.get("title", path)), before=_brief(sub.get("type", ""))))
    for path in [p for p in after if p in before]:
        (old, old_required), (new, new_required) = before[path], after[path]
        keywords = [k for k in FIELD_KEYWORDS if k != "items" and old.get(k) != new.get(k)]
        if old_required != new_required:
            keywords.append("required")
        if keywords:
            changes.append(FieldChange(
                CHANGED, path, str(new.get("title", path)), tuple(keywords),
                "; ".join(f"{k}: {_brief(old.get(k, old_required if k == 'required' else ''))}" for k in keywords),
                "; ".join(f"{k}: {_brief(new.get(k, new_required if k == 'required' else ''))}" for k in keywords)))
    if not changes and dict(older) != dict(newer):  # only the form's own title, rules or hints changed
        changes.append(FieldChange(CHANGED, "", str(newer.get("title", name)), ("form",)))
    return FormChange(CHANGED, name, tuple(changes)) if changes else None


def compare_compiled(older: CompiledVersion, newer: CompiledVersion) -> Comparison:
    elements = spec_changes(older.key, older.spec, newer.spec)
    for name, spec in older.subprocess_specs.items():
        if name in newer.subprocess_specs:
            elements += spec_changes(name, spec, newer.subprocess_specs[name])
        else:
            elements += [_element(REMOVED, name, s) for s in spec.task_specs.values() if _bpmn(s)]
    for name, spec in newer.subprocess_specs.items():
        if name not in older.subprocess_specs:
            elements += [_element(ADDED, name, s) for s in spec.task_specs.values() if _bpmn(s)]
    order = {ADDED: 0, REMOVED: 1, CHANGED: 2}
    elements.sort(key=lambda e: (order[e.kind], e.process != older.key, e.process, e.element))
    forms = [form_changes(name, older.form(name), newer.form(name))
             for name in sorted(set(older.forms_json) | set(newer.forms_json))]
    return Comparison(older.key, older.version, newer.version, tuple(elements),
                      tuple(f for f in forms if f is not None))


def compare(session: Session, key: str, older: int, newer: int) -> Comparison:
    """Version `older` against version `newer` of procedure `key` (either may be the larger number)."""
    first = versions.compiled(session, version_id(session, key, older))
    second = versions.compiled(session, version_id(session, key, newer))
    return compare_compiled(first, second)

