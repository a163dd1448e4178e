"""One task: its form drawn from the JSON Schema, completed once through the engine; who holds it."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.attachments import ACCEPT, MAX_BYTES
from engine.errors import Conflict, InvalidData, KhantonError

from .. import engine, forms_render
from ..auth import current_actor
from ..errors import redraw_when_busy
from ..i18n import be_datetime, lane_name, status_name
from .common import bp, next_task
from .round_start import start_values

TIMELINE_EVENTS = 15  # beside a task, the latest history; the instance page has all of it


def _done_message(view: dict[str, Any]) -> str:
    if view.get("status") == "completed":
        done_by = view.get("completed_by") or ""
        who = engine().display_names(done_by).get(done_by) or done_by
        return str(_("ขั้นตอนนี้บันทึกไปแล้วโดย %(who)s เมื่อ %(when)s — ไม่ได้บันทึกซ้ำ",
                     who=who, when=be_datetime(view.get("completed_at"))))
    if view.get("status") == "late":  # engine.rounds.answer_by: closed after its answer-by date
        return str(_("เลยวันกำหนดตอบแล้ว เจ้าหน้าที่ปิดรอบนี้และดำเนินการต่อด้วยคำตอบที่ได้รับ จึงบันทึกไม่ได้ (ติดต่อเจ้าหน้าที่)"))
    return str(_("ขั้นตอนนี้ไม่อยู่ในสถานะรอดำเนินการแล้ว (อาจถูกส่งกลับแก้ไขหรือยกเลิก)"))


def _render(task_id: str, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
            extra_rows: dict[str, int] | None = None, notice: str = "", status: int = 200) -> tuple[str, int]:
    actor = current_actor()
    view = engine().task(task_id, actor)
    worker = engine().worker(actor)
    working = worker.actor
    case = engine().instance_file(view["instance"], actor, latest_events=TIMELINE_EVENTS)
    schema = view["form"]
    typed = values is not None  # what the person sent, not what is stored
    if values is None:  # the person's draft, else what the round starts from (a decision: empty)
        values = start_values(view)
    fields = forms_render.build_fields(schema, values, errors, extra_rows)
    forms_render.tidy_errors(fields)
    labels = _labels(fields)
    summary = [(path, labels.get(path, ""), message)
               for path, message in forms_render.errors_in_order(fields, errors or {})]
    holder = next((t for t in case["ready_tasks"] if t["id"] == task_id), None)
    acting = worker.acting
    ready = view["status"] == "ready"
    # The engine's own rule (assignments.Worker): one's lanes and school, and a claim of one's own or of
    # someone one acts for today.
    may_work = ready and view["lane"] in working.works_lanes and view.get("school") in (None, working.school) and (
        holder is None or holder["assignee"] is None or holder["assignee"] in worker.stands_for)
    if ready and not notice and view["lane"] not in working.works_lanes:
        notice = _("ขั้นตอนนี้เป็นงานของ %(lane)s ดูได้อย่างเดียว", lane=lane_name(view["lane"]))
    if not ready and not notice:
        notice = _done_message(view)
    colleagues = engine().colleagues(view["lane"], exclude=actor.username, school=view.get("school")) if ready else []
    kept = _typed(fields) if typed and not may_work else []
    return render_template(
        "tasks/task.html", task=view, case=case, fields=fields, errors=errors or {}, summary=summary,
        notice=notice, may_work=may_work, kept=kept, holder=holder, colleagues=colleagues, me=actor.username,
        is_head="plan_head" in working.works_lanes, attachments=engine().task_attachments(task_id, actor),
        accept=ACCEPT, max_mb=MAX_BYTES // (1024 * 1024),
        acting_for=_display_name(acting.get(view["lane"])) if ready else ""), status


def _display_name(username: str | None) -> str:
    return engine().display_names(username).get(username or "", "") if username else ""


def _typed(fields: list[forms_render.Field]) -> list[tuple[str, str]]:
    """(label, value as the person typed or chose it) of each filled field: what a refused person
    who can no longer send the form still needs in front of them, to copy."""
    labels = _labels(fields)
    kept = []
    for f in fields:
        for leaf in [cell for row in f.rows for cell in row] if f.kind == "table" else [f]:
            if leaf.value.strip():
                choice = dict(leaf.options).get(leaf.value) if leaf.options else None
                kept.append((labels.get(leaf.name, leaf.label), choice or leaf.value))
    return kept


def _labels(fields: list[forms_render.Field]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for f in fields:
        labels[f.name] = f.label
        for i, row in enumerate(f.rows):
            labels[f"{f.name}.{i}"] = _("%(table)s แถวที่ %(n)s", table=f.label, n=i + 1)
            for cell in row:
                labels[cell.name] = _("%(table)s แถวที่ %(n)s: %(column)s", table=f.label, n=i + 1, column=cell.label)
    return labels


@bp.get("/tasks/<task_id>")
def task(task_id: str) -> tuple[str, int]:
    return _render(task_id)


@bp.post("/tasks/<task_id>")
def complete(task_id: str) -> Response | tuple[str, int]:
    """Convert what the browser sent and hand it to the engine, which alone validates it (with the
    instance's data that cross-field checks need). A refusal or a conflict keeps every typed value."""
    actor = current_actor()
    view = engine().task(task_id, actor)
    schema = view["form"]
    raw = request.form.to_dict()
    add_row, remove_row = request.form.get("_add_row"), request.form.get("_remove_row")
    if view["status"] == "ready" and (add_row or remove_row):  # the table buttons, when JavaScript is off
        values = forms_render.compact(raw, schema, drop=remove_row)
        values.update({k: v for k, v in raw.items() if k.count(".") == 0 and k in values})
        return _render(task_id, values=values, extra_rows={add_row: 1} if add_row else None)
    data, unconverted, values = forms_render.parse(schema, raw)
    if view["status"] != "ready":
        return _render(task_id, values=values, notice=_done_message(view), status=409)
    redraw_when_busy(lambda notice: _render(task_id, values=values, notice=notice, status=503))
    try:
        result = engine().complete(task_id, data, actor, unconverted)
    except InvalidData as err:
        errors: dict[str, str] = {}
        for e in err.errors:
            errors.setdefault(e.field, e.message)
        return _render(task_id, values=values, errors=errors, status=422)
    except Conflict as err:
        view = engine().task(task_id, actor)
        notice = err.message if view["status"] == "ready" else _done_message(view)
        return _render(task_id, values=values, notice=notice, status=409)
    mine = next_task(result, actor)
    if mine:
        flash(_("บันทึก “%(step)s” แล้ว — ต่อด้วยขั้นตอนถัดไป", step=view["name"]), "success")
        return redirect(url_for("tasks.task", task_id=mine))
    if result["status"] != "running":
        flash(_("บันทึก “%(step)s” แล้ว — กระบวนงานสิ้นสุด (%(status)s)", step=view["name"],
                status=status_name(result["status"])), "success")
    else:
        nxt = ", ".join(lane_name(t["lane"]) for t in result["ready_tasks"])
        flash(_("บันทึก “%(step)s” แล้ว — ส่งต่อไปยัง %(next)s", step=view["name"], next=nxt), "success")
    return redirect(url_for("tasks.inbox"))


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str) -> Response:
    engine().claim(task_id, current_actor())
    flash(_("รับงานแล้ว"), "success")
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.post("/tasks/<task_id>/release")
def release(task_id: str) -> Response:
    engine().release(task_id, current_actor())
    flash(_("ปล่อยงานคืนให้ผู้ปฏิบัติงานใน lane แล้ว"), "success")
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.post("/tasks/<task_id>/hand-over")
def hand_over(task_id: str) -> Response:
    to = request.form.get("to", "")
    if not to:
        flash(_("กรุณาเลือกผู้รับงาน"), "error")
        return redirect(url_for("tasks.task", task_id=task_id))
    engine().hand_over(task_id, current_actor(), to, request.form.get("note", ""))
    flash(_("ส่งต่องานแล้ว"), "success")
    return redirect(url_for("tasks.inbox"))


@bp.post("/tasks/<task_id>/attachments")
def attach(task_id: str) -> Response:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("กรุณาเลือกไฟล์"), "error")
        return redirect(url_for("tasks.task", task_id=task_id))
    content = upload.stream.read(MAX_BYTES + 1)
    try:
        kept = engine().attach(task_id, current_actor(), upload.filename, content)
    except KhantonError as err:
        if err.code == "not_found":
            abort(404)
        flash(err.message, "error")
    else:  # the name as kept: cleaned of path parts and direction-changing characters
        flash(_("แนบเอกสาร %(name)s แล้ว", name=kept["filename"]), "success")
    return redirect(url_for("tasks.task", task_id=task_id) + "#attachments")
