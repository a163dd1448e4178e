"""The admin's repair forms on the instance page: suspend, resume, terminate, send back, correct, retry.

Each form carries the instance's revision as the page showed it, so a repair made on a page that is
out of date is refused (409) rather than applied to a state the admin did not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import FieldError, InvalidData, KhantonError
from engine.service import RepairChoices

from .. import engine, forms_render
from ..auth import current_actor
from .common import bp

ACTIONS = ("suspend", "resume", "terminate", "send_back", "correct", "retry")
SIMPLE_KINDS = ("text", "textarea", "integer", "number", "money", "date", "boolean", "select", "radio")


@dataclass(frozen=True)
class FieldChoice:
    """A field an admin may correct on the page (one value, not a table)."""

    name: str
    title: str
    kind: str
    current: str


def repair_fields(choices: RepairChoices) -> list[FieldChoice]:
    found = []
    for name, schema in sorted(choices.fields.items()):
        kind = forms_render.kind_of(schema, schema.get("x-ui") or {})
        if kind not in SIMPLE_KINDS:
            continue
        value = choices.data.get(name)
        found.append(FieldChoice(name, str(schema.get("title") or name), kind,
                                 "" if value is None else str(value)))
    return found


def _value(instance_id: str, field: str, text: str) -> Any:
    """The typed value from the page's text, by the field's kind; InvalidData in Thai if it cannot be."""
    schema = engine().repair_choices(instance_id, current_actor()).fields.get(field)
    if schema is None:
        raise InvalidData.one("field", "ไม่มีช่องข้อมูลนี้ในแบบฟอร์มของกระบวนงาน")
    kind = forms_render.kind_of(schema, schema.get("x-ui") or {})
    if kind in ("select", "radio"):
        kind = "integer" if schema.get("type") == "integer" else "text"
    try:
        return forms_render.convert(kind, text)
    except ValueError as err:
        raise InvalidData([FieldError("value", str(err))]) from None


@bp.post("/instances/<instance_id>/repair/<action>")
def repair(instance_id: str, action: str) -> Response | tuple[str, int]:
    if action not in ACTIONS:
        return render_template("error.html", title=_("ไม่พบหน้าที่ต้องการ"), message=_("ไม่มีการแก้ไขแบบนี้")), 404
    form = request.form
    if form.get("confirm") != "yes":
        return render_template("error.html", title=_("แก้ไขกระบวนงานไม่สำเร็จ"),
                               message=_("กรุณาทำเครื่องหมาย “ยืนยันว่าต้องการดำเนินการนี้” ก่อน")), 422
    given: dict[str, Any] = {"reason": form.get("reason", "")[:5000], "revision": form.get("revision")}
    try:
        if action == "send_back":
            given["step"] = form.get("step", "")
        if action == "correct":
            given["field"] = form.get("field", "")
            given["value"] = _value(instance_id, given["field"], form.get("value", "")[:20000])
        engine().repair(action, instance_id, current_actor(), **given)
    except InvalidData as err:
        message = " ".join(e.message for e in err.errors) or err.message
        return render_template("error.html", title=_("แก้ไขกระบวนงานไม่สำเร็จ"), message=message), 422
    except KhantonError:
        raise  # the blueprint's handler: 403, 404, 409 pages in Thai
    done = {"suspend": _("ระงับกระบวนงานไว้ชั่วคราวแล้ว"), "resume": _("ให้กระบวนงานดำเนินการต่อแล้ว"),
            "terminate": _("ยุติกระบวนงานแล้ว"), "send_back": _("ส่งกลับไปยังขั้นตอนที่เลือกแล้ว"),
            "correct": _("แก้ไขข้อมูลแล้ว"), "retry": _("สั่งให้ลองดำเนินการใหม่แล้ว")}
    flash(done[action], "success")
    return redirect(url_for("tasks.instance", instance_id=instance_id) + "#repair")
