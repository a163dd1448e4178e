"""Sign in and out (Flask-Login), sessions that expire, CSRF on every page form (Flask-WTF).

Each sign-in opens a session on the server (engine.web_sessions) whose key is all the cookie holds;
signing out ends it there, so a copy of the cookie signs nobody in afterwards.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.wrappers import Response

from engine.accounts import Actor
from engine.signin import LockedOut

from . import engine
from .client import address
from .errors import redraw_when_busy
from .redirects import local_path

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()


class WebUser(UserMixin):  # type: ignore[misc]
    """The signed-in person, as Flask-Login sees them; `actor` is what the engine checks.

    Flask-Login keeps get_id() in the cookie: here the server-side session's key, not the username.
    """

    def __init__(self, actor: Actor, session_key: str) -> None:
        self.actor = actor
        self.session_key = session_key

    def get_id(self) -> str:
        return self.session_key

    @property
    def name(self) -> str:
        return self.actor.display_name or self.actor.username


def current_actor() -> Actor:
    user: WebUser = current_user
    return user.actor


@login_manager.user_loader  # type: ignore[untyped-decorator]
def _load_user(session_key: str) -> WebUser | None:
    # One query: the session is live and its person active (an ended session or a deactivated
    # person is signed out on their next request).
    actor = engine().web_session_actor(session_key, current_app.permanent_session_lifetime)
    return WebUser(actor, session_key) if actor else None


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("tasks.inbox")


def _sign_out() -> None:
    """End the session on the server and in the browser, keeping only the chosen language."""
    user = current_user._get_current_object()
    if isinstance(user, WebUser):
        engine().end_web_session(user.session_key)
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("tasks.inbox"))
    error = ""
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        redraw_when_busy(lambda notice: (render_template("auth/login.html", error=notice, username=username,
                                                         next=request.form.get("next", "")), 503))
        try:
            actor = engine().sign_in(username, password, address()) if username and password else None
        except LockedOut as err:
            return render_template("auth/login.html", error=_(err.message), username=username), 429
        if actor is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session: no fixation
            if lang:
                session["lang"] = lang
            session.permanent = True
            session["signed_in_at"] = int(time.time())
            login_user(WebUser(actor, engine().begin_web_session(
                actor.username, current_app.permanent_session_lifetime)))
            return redirect(_safe_next(request.form.get("next")))
        error = _("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง")
    return render_template("auth/login.html", error=error, username=username,
                           next=request.args.get("next", request.form.get("next", "")))


@bp.post("/logout")
@login_required  # type: ignore[untyped-decorator]
def logout() -> Response:
    _sign_out()
    flash(_("ออกจากระบบแล้ว"), "info")
    return redirect(url_for("auth.login"))


def _expire_session() -> Response | None:
    """Sign out a session older than PERMANENT_SESSION_LIFETIME, whatever the browser kept."""
    started = session.get("signed_in_at")
    if started is None or not current_user.is_authenticated:
        return None
    lifetime: timedelta = current_app.permanent_session_lifetime
    if time.time() - float(started) <= lifetime.total_seconds():
        return None
    _sign_out()
    if request.blueprint == "api":
        return None
    flash(_("หมดเวลาการใช้งาน กรุณาลงชื่อเข้าใช้อีกครั้ง"), "warning")
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


class _SessionCookies(SecureCookieSessionInterface):
    """The session cookie is Secure on every answer to an HTTPS request, and on all answers when
    SESSION_COOKIE_SECURE is set (HTTPS ends at a proxy in front, so the app sees plain HTTP)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def _csrf_error(err: CSRFError) -> tuple[str, int]:
    return render_template("error.html", title=_("แบบฟอร์มหมดอายุ"),
                           message=_("แบบฟอร์มนี้หมดอายุหรือไม่ได้ส่งจากหน้าของระบบ "
                                     "กรุณากลับไปโหลดหน้าใหม่แล้วลองอีกครั้ง")), 400


def _flag(value: Any) -> bool:
    """A yes/no setting: true from the environment arrives as True; "yes", "on" and "1" count too."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def init_app(app: Flask) -> None:
    # Flask's defaults exist already (31 days, no SameSite): set ours unless the config chose.
    if app.config.get("PERMANENT_SESSION_LIFETIME") == timedelta(days=31):
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=8)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    # KHANTON_SECURE_COOKIES=true (docs/operator-guide.md) or SESSION_COOKIE_SECURE in the config dict.
    app.config["SESSION_COOKIE_SECURE"] = _flag(app.config.get("SESSION_COOKIE_SECURE")) or _flag(
        app.config.get("SECURE_COOKIES"))
    app.session_interface = _SessionCookies()
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "กรุณาลงชื่อเข้าใช้ก่อน"
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.before_request(_expire_session)
    app.register_error_handler(CSRFError, _csrf_error)

    @app.context_processor
    def _user() -> dict[str, Any]:
        if not current_user.is_authenticated or request.blueprint == "api":
            return {}
        if "waiting" not in g:
            g.waiting = engine().count_waiting(current_actor())
        return {"waiting_count": g.waiting}
