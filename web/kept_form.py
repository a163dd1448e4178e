"""Nothing typed is lost to an expired session.

A task's form sent after the session ended (idle too long) does not go to the engine: the sign-in
page answers instead, carrying what the form held in hidden fields (the sign-in round trip, never the
address). Once the person has signed in again, those values become their draft of the task
(engine.rounds.drafts), and they land back on the form with every value restored.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, logout_user
from werkzeug.wrappers import Response

from engine.errors import KhantonError

from . import engine, forms_render

PREFIX = "kept."
# The task forms whose values are carried: completing a step and saving its draft.
KEPT_ENDPOINTS = {"tasks.complete", "tasks.save_draft"}
TASK_PATH = re.compile(r"^/tasks/([^/?#]{1,200})$")
MAX_FIELDS = 2000  # a form with its item tables; more is no form of ours


def kept_fields() -> list[tuple[str, str]]:
    """(name, value) of the form being carried: the sent task form, or the sign-in form carrying it."""
    if request.method != "POST":
        return []
    if request.endpoint == "auth.login":
        items = [(k[len(PREFIX):], v) for k, v in request.form.items() if k.startswith(PREFIX)]
    elif request.endpoint in KEPT_ENDPOINTS:
        items = [(k, v) for k, v in request.form.items() if k != "csrf_token" and not k.startswith("_")]
    else:
        items = []
    return items[:MAX_FIELDS]


def _unauthorized() -> Response | tuple[str, int]:
    """What a signed-out person gets from a page that needs them signed in."""
    expired = bool(g.get("session_expired")) or "_user_id" in session  # the cookie said someone was in
    if "_user_id" in session:
        logout_user()  # the server ended it (idle, signed out elsewhere): forget it in the cookie too
    if expired:
        flash(_("หมดเวลาการใช้งาน กรุณาลงชื่อเข้าใช้อีกครั้ง"), "warning")
    else:
        flash(_("กรุณาลงชื่อเข้าใช้ก่อน"), "info")
    if request.method == "POST" and request.endpoint in KEPT_ENDPOINTS:
        return render_template("auth/login.html", error="", username="", next=request.path), 401
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def _draft_data(schema: dict[str, Any], raw: dict[str, str]) -> dict[str, Any]:
    """The form's values as data for a draft: converted where they convert, as typed where they do not
    ("สองหมื่น" in a money field stays, for the person to correct)."""
    data, unconverted, values = forms_render.parse(schema, raw)
    for problem in unconverted:
        _put(data, problem.field.split("."), values.get(problem.field, ""))
    return data


def _put(data: Any, path: list[str], text: str) -> None:
    here = data
    for part in path[:-1]:
        here = here[int(part)] if isinstance(here, list) and part.isdigit() and int(part) < len(here) else (
            here.get(part) if isinstance(here, dict) else None)
        if here is None:
            return
    if isinstance(here, dict):
        here[path[-1]] = text


def save_draft_from_form(task_id: str, raw: dict[str, str]) -> dict[str, Any]:
    """Keep the sent form as the signed-in person's draft (raises the engine's refusal): the draft."""
    actor = current_user.actor
    view = engine().task(task_id, actor)
    return engine().save_draft(task_id, actor, _draft_data(view["form"], raw))


def _restore_after_sign_in(response: Response) -> Response:
    """Once signed in from a page that carried a form, that form becomes the person's draft."""
    if request.endpoint != "auth.login" or request.method != "POST" or not current_user.is_authenticated:
        return response
    carried = dict(kept_fields())
    match = TASK_PATH.match(request.form.get("next", ""))
    if not carried or match is None or response.status_code != 302:
        return response
    try:
        save_draft_from_form(match.group(1), carried)
    except KhantonError as err:
        flash(_("กู้คืนข้อมูลที่กรอกไว้ไม่ได้: %(why)s", why=err.message), "error")
    else:
        flash(_("กู้คืนข้อมูลที่คุณกรอกไว้ก่อนหมดเวลาแล้ว — ตรวจสอบแล้วกดบันทึกอีกครั้ง"), "success")
    return response


def init_app(app: Flask, login_manager: LoginManager) -> None:
    login_manager.unauthorized_handler(_unauthorized)
    app.after_request(_restore_after_sign_in)
    app.context_processor(lambda: {"kept_fields": kept_fields})
