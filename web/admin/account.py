"""Everyone's own password (/account/password); after an admin's reset, nothing else until it is changed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, user_logged_in
from werkzeug.wrappers import Response

from engine.errors import KhantonError
from engine.people.passwords import MIN_LENGTH

from .. import engine
from ..auth import WebUser, current_actor
from .common import people, who

bp = Blueprint("account", __name__, url_prefix="/account")
MUST_CHANGE = "must_change_password"
# What a person who must change their password may still reach (the fonts and scripts too: the page asking for
# the new password is in Thai, and Debian's chromium has no Thai font of its own).
OPEN_ENDPOINTS = {"account.password", "auth.logout", "auth.login", "static", "i18n.set_language",
                  "assets.font", "assets.vendor"}


@bp.route("/password", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def password() -> str | tuple[str, int] | Response:
    if request.method == "POST":
        form = request.form
        try:
            people().change_own_password(who(), form.get("current", ""), form.get("new", ""),
                                         form.get("repeat", ""))
        except KhantonError as err:
            return render_template("admin/password.html", error=err.message, min_length=MIN_LENGTH,
                                   forced=session.get(MUST_CHANGE, False)), 400
        # Changing it ended every session of the person's: this browser carries on in a new one.
        actor = current_actor()
        login_user(WebUser(actor, engine().begin_web_session(actor.username, current_app.permanent_session_lifetime)))
        session.pop(MUST_CHANGE, None)
        flash(_("เปลี่ยนรหัสผ่านแล้ว เครื่องอื่นที่ลงชื่อเข้าใช้ไว้จะออกจากระบบ"), "success")
        return redirect(url_for("tasks.inbox"))
    return render_template("admin/password.html", error="", min_length=MIN_LENGTH,
                           forced=session.get(MUST_CHANGE, False))


def _remember_reset(_app: Flask, user: Any) -> None:
    """At sign-in, note in the session whether an admin reset the password (one query, not one per page)."""
    if isinstance(user, WebUser) and people().must_change_password(user.actor.username):
        session[MUST_CHANGE] = True


def _change_first() -> Response | None:
    if not session.get(MUST_CHANGE) or request.blueprint == "api" or request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return None
    flash(_("ผู้ดูแลระบบตั้งรหัสผ่านชั่วคราวให้คุณ กรุณาตั้งรหัสผ่านของคุณเองก่อนใช้งาน"), "warning")
    return redirect(url_for("account.password"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_change_first)
    user_logged_in.connect(_remember_reset, app)
