"""The officers' blueprint and what its views share: the engine, the actor, engine errors as pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from engine.accounts import Actor
from engine.errors import Conflict, Forbidden, Held, KhantonError, NotFound, TooLarge

from .. import engine

bp = Blueprint("tasks", __name__)

STATUS: dict[type[KhantonError], int] = {NotFound: 404, Forbidden: 403, Conflict: 409, TooLarge: 413}
TITLES = {404: _l("ไม่พบหน้าที่ต้องการ"), 403: _l("ไม่มีสิทธิ์เข้าถึง"), 409: _l("ดำเนินการไปแล้ว"),
          413: _l("ไฟล์ใหญ่เกินไป")}
FAILED = _l("ดำเนินการไม่สำเร็จ")


MAX_ID_LENGTH = 200  # ids are uuids, keys at most 100 characters


@bp.before_request
@login_required  # type: ignore[untyped-decorator]
def _signed_in() -> None:
    """Every officer page needs a signed-in person; an id no row can have is unknown before the
    database sees it (PostgreSQL refuses a NUL in text with an error, not "no such row")."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and ("\x00" in value or len(value) > MAX_ID_LENGTH):
            abort(404)


@bp.errorhandler(KhantonError)
def _engine_error(err: KhantonError) -> tuple[str, int]:
    status = next((s for cls, s in STATUS.items() if isinstance(err, cls)), 400)
    # Only the title shown is translated (a 404 page translated all six).
    if isinstance(err, Held) and status == 409:  # a 409 that is not "already done": someone else holds the task
        title = _("งานนี้มีผู้รับไว้แล้ว")
    else:
        title = str(TITLES.get(status, FAILED))
    return render_template("error.html", title=title, message=err.message), status


def next_task(instance: dict[str, Any], actor: Actor) -> str | None:
    """The first ready task of the instance that the same person may do next (step by step)."""
    working = engine().working_actor(actor)
    for task in instance.get("ready_tasks") or []:
        if task["lane"] in working.works_lanes:
            return str(task["id"])
    return None
