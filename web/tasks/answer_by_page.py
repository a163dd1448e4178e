"""After the answer-by date of per-school rounds: the officer closes the rounds still open and goes on."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import Conflict, Forbidden, NotFound

from .. import engine
from ..auth import current_actor
from .common import bp


@bp.post("/instances/<instance_id>/rounds/<task_spec>/close")
def close_late_rounds(instance_id: str, task_spec: str) -> Response:
    text = request.form.get("revision", "")
    revision = int(text) if text.isdigit() and len(text) < 10 else None
    back = redirect(url_for("tasks.instance", instance_id=instance_id[:40]))
    if revision is None:  # the page always sends it: without it the check could not be made
        flash(_("ข้อมูลจากหน้าเว็บไม่ครบ กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง"), "error")
        return back
    try:
        closed = engine().close_late_rounds(instance_id[:40], task_spec[:200], current_actor(), revision)
    except (NotFound, Forbidden, Conflict) as err:
        flash(err.message, "error")
        return back
    flash(_("ปิดรอบของสถานศึกษาที่ไม่ตอบภายในกำหนด %(n)s แห่งแล้ว (บันทึกไว้ในประวัติ) ดำเนินการต่อด้วยคำตอบที่ได้รับ",
            n=closed), "success")
    return back
