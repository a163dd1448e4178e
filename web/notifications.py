"""/notifications: the signed-in person's in-app notices, and their unread count in the header;
/account/notifications: what they choose to receive, per kind, in-app and by e-mail, and their address."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from engine.errors import KhantonError
from engine.notify import inbox, mail, preferences
from engine.people.audit import Who

from . import engine
from .auth import current_actor
from .client import address as client_address

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

choices_bp = Blueprint("notification_choices", __name__, url_prefix="/account/notifications")

KIND_NAMES = {inbox.NEW: "งานใหม่", inbox.DUE_SOON: "ใกล้ครบกำหนด", inbox.OVERDUE: "เกินกำหนด",
              inbox.RETURNED: "ส่งกลับแก้ไข", preferences.DIGEST: "สรุปงานประจำวัน"}
KIND_HELP = {inbox.NEW: "งานที่เข้ามาในกล่องงานของคุณ", inbox.RETURNED: "งานที่ถูกส่งกลับมาให้แก้ไข พร้อมเหตุผล",
             inbox.DUE_SOON: "งานที่จะครบกำหนดภายใน 1 วัน", inbox.OVERDUE: "งานที่เกินกำหนดแล้ว",
             preferences.DIGEST: "อีเมลวันละฉบับ: งานที่ครบกำหนดภายใน 7 วันและงานที่เกินกำหนด"}
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


def _choices_page(email: str, choices: dict[str, preferences.Choice], error: str = "") -> str:
    config = mail.settings()
    return render_template("notifications/choices.html", email=email, choices=choices, error=error,
                           kinds=preferences.KINDS, email_only=preferences.EMAIL_ONLY, kind_names=KIND_NAMES,
                           kind_help=KIND_HELP, mail_on=config.enabled, digest_hour=config.digest_hour)


@choices_bp.get("")
@login_required  # type: ignore[untyped-decorator]
def choices() -> str:
    username = current_actor().username
    with engine().db.transaction(read_only=True) as session:
        return _choices_page(preferences.email_of(session, username) or "", preferences.of(session, username))


@choices_bp.post("")
@login_required  # type: ignore[untyped-decorator]
def save_choices() -> Response | tuple[str, int]:
    username = current_actor().username
    in_app, by_email = set(request.form.getlist("in_app")), set(request.form.getlist("email"))
    chosen = {kind: (kind in in_app, kind in by_email) for kind in preferences.KINDS}
    address = request.form.get("address", "")[:1000]
    try:
        with engine().db.transaction() as session:
            preferences.set_email(session, username, address, Who(username, client_address()))
            preferences.save(session, username, chosen)
    except KhantonError as err:
        shown = {kind: preferences.Choice(kind, a and kind not in preferences.EMAIL_ONLY, b)
                 for kind, (a, b) in chosen.items()}
        return _choices_page(address[:preferences.MAX_EMAIL + 10], shown, err.message), 400
    flash(_("บันทึกการเลือกรับการแจ้งเตือนแล้ว"), "success")
    return redirect(url_for("notification_choices.choices"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(choices_bp)
