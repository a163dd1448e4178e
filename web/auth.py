"""Sign in and out (Flask-Login), sessions that expire, CSRF on every page form (Flask-WTF).

Each sign-in opens a session on the server (engine.web_sessions) whose key is all the cookie holds;
signing out ends it there, so a copy of the cookie signs nobody in afterwards. A session ends after an
idle time (sliding); a form sent after that is kept through signing in again (kept_form).
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
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.wrappers import Response

from engine.accounts import Actor
from engine.signin import LockedOut

from . import engine, kept_form
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
    actor = engine().web_session_actor(session_key, idle_time())
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
            session["seen_at"] = int(time.time())
            login_user(WebUser(actor, engine().begin_web_session(
                actor.username, idle_time())))
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


_NO_SESSION_ENDPOINTS = frozenset({"static", "assets.font", "assets.vendor"})


def _expire_session() -> None:
    """Sign out a session idle longer than the idle time (SESSION_IDLE), whatever the browser kept (the
    server checks the same on its side: engine.web_sessions). Each request starts the idle time again.
    The page then answers as to anyone signed out (kept_form: what a sent form held is not lost)."""
    if request.endpoint in _NO_SESSION_ENDPOINTS or not current_user.is_authenticated:
        # Files (a favicon fetched late, a stylesheet) never rewrite the session cookie: their answer may
        # arrive after the next page's and would overwrite its cookie, flashed messages included.
        return
    now = time.time()
    seen = session.get("seen_at", session.get("signed_in_at"))
    if seen is not None and now - float(seen) > idle_time().total_seconds():
        _sign_out()
        g.session_expired = True
        return
    session["seen_at"] = int(now)


class _SessionCookies(SecureCookieSessionInterface):
    """The session cookie is Secure on every answer to an HTTPS request, and on all answers when
    SESSION_COOKIE_SECURE is set (HTTPS ends at a proxy in front, so the app sees plain HTTP)."""

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        # A file's answer carries no cookie: sent late, it would put back an older session (_expire_session).
        if has_request_context() and request.endpoint in _NO_SESSION_ENDPOINTS and not session.modified:
            return False
        return super().should_set_cookie(app, session)

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


DEFAULT_IDLE_MINUTES = 60
# The cookie outlives the idle time: a form left open over lunch must still reach the app with its CSRF
# token, so that an expired session can carry what it held through signing in again (kept_form).
COOKIE_LIFETIME = timedelta(days=7)


def idle_minutes(value: Any) -> int:
    """The idle time setting, in whole minutes (default 60); nonsense stops the app at start, saying so."""
    if value is None or value == "":
        return DEFAULT_IDLE_MINUTES
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        minutes = 0
    if minutes < 1 or minutes > 7 * 24 * 60 or isinstance(value, bool):
        raise ValueError(f"SESSION_IDLE_MINUTES ต้องเป็นจำนวนนาที 1–10080 (ได้ {value!r})")
    return minutes


def idle_time() -> timedelta:
    """How long a session may go without a request before it ends."""
    idle: timedelta = current_app.config["SESSION_IDLE"]
    return idle


def init_app(app: Flask) -> None:
    # A session ends after SESSION_IDLE_MINUTES without a request (KHANTON_SESSION_IDLE_MINUTES,
    # docs/operator-guide.md); every request starts the time again, and the cookie slides with it. The
    # older KHANTON_PERMANENT_SESSION_LIFETIME (seconds), when an operator set it, is taken as the idle time.
    idle = app.config.get("PERMANENT_SESSION_LIFETIME")
    if isinstance(idle, int | float) and not isinstance(idle, bool):  # seconds, as the environment gives it
        idle = timedelta(seconds=idle)
    if app.config.get("SESSION_IDLE_MINUTES") or idle in (timedelta(days=31), timedelta(hours=8), None):
        idle = timedelta(minutes=idle_minutes(app.config.get("SESSION_IDLE_MINUTES")))
    app.config["SESSION_IDLE"] = idle
    app.config["PERMANENT_SESSION_LIFETIME"] = max(idle, COOKIE_LIFETIME)  # the cookie's, sliding too
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
    kept_form.init_app(app, login_manager)
