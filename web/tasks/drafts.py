"""A task's draft from the page ("บันทึกร่าง"): kept on the server, restored when the task is opened."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import InvalidData, KhantonError

from .. import engine, forms_render
from ..auth import current_actor
from ..i18n import be_datetime
from ..kept_form import save_draft_from_form
from .common import bp
from .task_page import _render


@bp.post("/tasks/<task_id>/draft")
def save_draft(task_id: str) -> Response | tuple[str, int]:
    """Keep what the form holds, converted where it converts and as typed where not; nothing is
    validated and the step is not completed."""
    raw = {k: v for k, v in request.form.to_dict().items() if k != "csrf_token" and not k.startswith("_")}
    view = engine().task(task_id, current_actor())
    values = forms_render.compact(raw, view["form"])
    try:
        draft = save_draft_from_form(task_id, raw)
    except InvalidData as err:
        errors: dict[str, str] = {}
        for e in err.errors:
            errors.setdefault(e.field, e.message)
        return _render(task_id, values=values, errors=errors, status=422)
    except KhantonError as err:
        status = {"conflict": 409, "too_large": 413, "forbidden": 403}.get(err.code, 400)
        return _render(task_id, values=values, notice=err.message, status=status)
    flash(_("บันทึกร่างแล้ว เมื่อ %(when)s — ยังไม่ได้ส่งต่อ เปิดงานนี้อีกครั้งเมื่อใดก็กรอกต่อได้",
            when=be_datetime(draft["saved_at"])), "success")
    return redirect(url_for("tasks.task", task_id=task_id))
