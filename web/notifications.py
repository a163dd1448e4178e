"""/notifications: the signed-in person's in-app notices, and their unread count in the header."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from engine.notify import inbox

from . import engine
from .auth import current_actor

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

KIND_NAMES = {inbox.NEW: "งานใหม่", inbox.DUE_SOON: "ใกล้ครบกำหนด", inbox.OVERDUE: "เกินกำหนด"}
KIND_NAMES["reminder"] = "เตือน: ยังรอผล"  # engine.time.reminders


@bp.get("")
@login_required  # type: ignore[untyped-decorator]
def notifications() -> str:
    with engine().db.transaction(read_only=True) as session:
        notices = inbox.listing(session, current_actor().username)
    return render_template("notifications/notifications.html", notices=notices, kind_names=KIND_NAMES)


@bp.post("/read")
@login_required  # type: ignore[untyped-decorator]
def mark_read() -> Response:
    with engine().db.transaction() as session:
        inbox.mark_read(session, current_actor().username)
    return redirect(url_for("notifications.notifications"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _unread() -> dict[str, Any]:
        if not current_user.is_authenticated or request.blueprint == "api":
            return {}
        with engine().db.transaction(read_only=True) as session:
            return {"notification_count": inbox.unread(session, current_actor().username)}
