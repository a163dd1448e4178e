"""Removing a document one attached by mistake, while its step is still open."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import Conflict, Forbidden

from .. import engine
from ..auth import current_actor
from .common import bp


@bp.post("/attachments/<attachment_id>/remove")
def remove_attachment(attachment_id: str) -> Response:
    back = request.form.get("task", "")
    try:
        removed = engine().remove_attachment(attachment_id, current_actor())
    except (Forbidden, Conflict) as err:  # someone else's, or the step is done: said where it came from
        flash(err.message, "error")
    else:
        flash(_("ลบเอกสาร %(name)s แล้ว (บันทึกไว้ในประวัติ)", name=removed["filename"]), "success")
        back = removed["task"] or back
    if back:
        return redirect(url_for("tasks.task", task_id=back) + "#attachments")
    return redirect(url_for("tasks.inbox"))
