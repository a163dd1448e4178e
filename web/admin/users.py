"""People: the list (searchable, paginated), adding and editing, and what signs a person in."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import KhantonError
from engine.notify import preferences
from engine.roles import ROLES

from .. import engine
from .common import PAGE_SIZE, bp, page_number, people, who


def _choices() -> dict[str, Any]:
    """What a person may be given: roles, the office's lanes (not outside bodies: they do not sign
    in), the schools."""
    lanes = [lane for lane in people().lanes() if not lane.outside]
    return {"roles": ROLES, "lanes": lanes, "schools": people().schools()}


def _submitted() -> dict[str, Any]:
    form = request.form
    return {"username": form.get("username", "").strip(), "display_name": form.get("display_name", ""),
            "roles": form.getlist("roles"), "lanes": form.getlist("lanes"), "school": form.get("school") or None,
            "email": form.get("email", "")[:1000]}


def _keep_email(username: str, address: str) -> None:
    with engine().db.transaction() as session:
        preferences.set_email(session, username, address, who())


@bp.get("/users")
def users() -> str:
    search = request.args.get("q", "").strip()[:100]
    page = page_number()
    rows, total = people().users(search, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("admin/users.html", rows=rows, total=total, page=page, pages=pages, q=search,
                           role_names=ROLES)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> str | tuple[str, int]:
    form: dict[str, Any] = {"roles": ["officer"], "lanes": []}
    if request.method == "POST":
        form = _submitted()
        try:
            preferences.checked_email(form["email"])  # refused before anything is added
            temporary = people().add_user(who(), form["username"], form["display_name"], form["roles"],
                                          form["lanes"], form["school"])
            _keep_email(form["username"], form["email"])
        except KhantonError as err:
            return render_template("admin/user_form.html", form=form, error=err.message, new=True,
                                   **_choices()), 400
        return render_template("admin/password_issued.html", username=form["username"], password=temporary,
                               added=True)
    return render_template("admin/user_form.html", form=form, error="", new=True, **_choices())


@bp.route("/users/<username>", methods=["GET", "POST"])
def user(username: str) -> str | tuple[str, int] | Response:
    access = people().access(username)
    person = access.person
    form: dict[str, Any] = {"username": person.username, "display_name": person.display_name,
                            "roles": list(person.roles), "lanes": list(person.lanes), "school": person.school}
    with engine().db.transaction(read_only=True) as session:
        form["email"] = preferences.email_of(session, username) or ""
    error = ""
    if request.method == "POST":
        form = {**_submitted(), "username": username}
        try:
            preferences.checked_email(form["email"])  # refused before anything is changed
            people().update_user(who(), username, form["display_name"], form["roles"], form["lanes"], form["school"])
            _keep_email(username, form["email"])
        except KhantonError as err:
            error = err.message
        else:
            flash(_("บันทึกข้อมูลของ %(name)s แล้ว", name=form["display_name"]), "success")
            return redirect(url_for("admin.user", username=username))
    history, _count = people().audit(limit=10, target=username)
    page = render_template("admin/user_form.html", form=form, error=error, new=False, access=access,
                           history=history, **_choices())
    return (page, 400) if error else page


@bp.post("/users/<username>/active")
def set_active(username: str) -> Response:
    active = request.form.get("active") == "1"
    people().set_active(who(), username, active)
    flash(_("เปิดใช้งานบัญชีแล้ว") if active else
          _("ปิดการใช้งานบัญชีแล้ว: ออกจากระบบทุกเครื่องและยกเลิกโทเค็น API ทั้งหมดทันที"), "success")
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/password")
def reset_password(username: str) -> str:
    temporary = people().reset_password(who(), username)
    return render_template("admin/password_issued.html", username=username, password=temporary, added=False)


@bp.post("/users/<username>/unlock")
def unlock(username: str) -> Response:
    people().unlock(who(), username)
    flash(_("ปลดล็อกบัญชีแล้ว ลงชื่อเข้าใช้ได้ทันที"), "success")
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/tokens/<int:token_id>/revoke")
def revoke_token(username: str, token_id: int) -> Response:
    people().revoke_token(who(), username, token_id)
    flash(_("ยกเลิกโทเค็นแล้ว ระบบที่ใช้โทเค็นนี้เข้าไม่ได้อีก"), "success")
    return redirect(url_for("admin.user", username=username))
