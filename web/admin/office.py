"""The office's lanes and schools (the audit log: audit_page.py)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import KhantonError

from .common import bp, people, who


@bp.route("/lanes", methods=["GET", "POST"])
def lanes() -> str | tuple[str, int] | Response:
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = {"key": request.form.get("key", "").strip(), "name": request.form.get("name", ""),
                "outside": request.form.get("outside") == "1"}
        try:
            lane = people().add_lane(who(), form["key"], form["name"], form["outside"])
        except KhantonError as err:
            return render_template("admin/lanes.html", lanes=people().lanes(), form=form, error=err.message), 400
        flash(_("เพิ่ม lane %(key)s แล้ว นักวิเคราะห์ใช้ในแผนภาพได้ทันที", key=lane.key), "success")
        return redirect(url_for("admin.lanes"))
    return render_template("admin/lanes.html", lanes=people().lanes(), form=form, error="")


@bp.post("/lanes/<key>")
def rename_lane(key: str) -> Response:
    people().rename_lane(who(), key, request.form.get("name", ""))
    flash(_("เปลี่ยนชื่อที่แสดงของ lane %(key)s แล้ว", key=key), "success")
    return redirect(url_for("admin.lanes"))


@bp.route("/schools", methods=["GET", "POST"])
def schools() -> str | tuple[str, int] | Response:
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("code", "name", "district")}
        try:
            people().add_school(who(), form["code"], form["name"], form["district"])
        except KhantonError as err:
            return render_template("admin/schools.html", schools=people().schools(), form=form,
                                   error=err.message), 400
        flash(_("เพิ่มสถานศึกษา %(name)s แล้ว", name=form["name"].strip()), "success")
        return redirect(url_for("admin.schools"))
    return render_template("admin/schools.html", schools=people().schools(), form=form, error="")
