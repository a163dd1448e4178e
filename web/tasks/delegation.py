"""Naming who acts for you while you are away (รักษาราชการแทน / ปฏิบัติราชการแทน)."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.assignments import KINDS
from engine.errors import KhantonError

from .. import engine, forms_render
from ..auth import current_actor
from .common import bp


@bp.route("/delegations", methods=["GET", "POST"])
def delegations() -> str | Response | tuple[str, int]:
    actor = current_actor()
    error = ""
    form = request.form.to_dict() if request.method == "POST" else {}
    if request.method == "POST":
        try:
            starts = forms_render.parse_date(form.get("starts_on", ""))
            ends = forms_render.parse_date(form.get("ends_on", ""))
        except ValueError as err:
            error = str(err)
        else:
            try:
                engine().delegate(actor, form.get("to", ""), form.get("kind", ""), date.fromisoformat(starts),
                                  date.fromisoformat(ends), form.get("note", ""))
            except KhantonError as err:
                error = err.message
            else:
                flash(_("บันทึกการมอบหมายผู้ปฏิบัติหน้าที่แทนแล้ว"), "success")
                return redirect(url_for("tasks.delegations"))
    people = [(u, n) for u, n in engine().officers() if u != actor.username]
    page = render_template("tasks/delegations.html", delegations=engine().delegations(actor), people=people,
                           kinds=KINDS, form=form, error=error, me=actor.username)
    return (page, 422) if error else page


@bp.post("/delegations/<int:delegation_id>/revoke")
def revoke(delegation_id: int) -> Response:
    engine().revoke_delegation(current_actor(), delegation_id)
    flash(_("ยกเลิกการมอบหมายแล้ว"), "success")
    return redirect(url_for("tasks.delegations"))
