"""/admin/holidays: the office calendar that working-day due dates count on (admins only), and the
`overdue` mark the inbox and the task page show."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from engine.errors import InvalidData, NotFound
from engine.thai_calendar import BE_OFFSET, today
from engine.time import holiday_admin

from . import engine, forms_render
from .auth import current_actor

bp = Blueprint("admin_holidays", __name__, url_prefix="/admin/holidays")


@bp.before_request
@login_required  # type: ignore[untyped-decorator]
def _admins_only() -> None:
    if "admin" not in current_actor().roles:
        abort(403)


def _year() -> int:
    """The year asked for, in the Buddhist era as the page shows it (?year=2570), else this year."""
    try:
        year = int(request.args.get("year", "")) - BE_OFFSET
    except ValueError:
        return today().year
    return year if holiday_admin.MIN_YEAR <= year <= holiday_admin.MAX_YEAR else today().year


def _page(year: int, form: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    with engine().db.transaction(read_only=True) as session:
        days = holiday_admin.year(session, year)
        overrides = holiday_admin.working_overrides(session, year)
    return render_template("admin_holidays/holidays.html", year=year, days=days, overrides=overrides,
                           form=form, errors=errors), status


@bp.get("")
def holidays() -> tuple[str, int]:
    return _page(_year(), {}, {})


@bp.post("")
def set_day() -> str | Response | tuple[str, int]:
    form = {k: request.form.get(k, "") for k in ("day", "name", "kind")}
    errors: dict[str, str] = {}
    day: date | None = None
    try:
        day = date.fromisoformat(forms_render.parse_date(form["day"]))
    except forms_render._Bad as bad:  # noqa: SLF001 - the pages' own date reader and its Thai message
        errors["day"] = str(bad)
    try:  # the name is checked even when the date was wrong, so every mistake shows at once
        with engine().db.transaction() as session:
            holiday_admin.set_day(session, day or today(), form["name"], form["kind"] != "working",
                                  current_actor().username)
            if errors:
                raise InvalidData([])  # nothing is kept when any field is wrong
    except InvalidData as err:
        errors.update({e.field: e.message for e in err.errors})
    if errors or day is None:
        return _page(_year(), form, errors, 422)
    flash(_("บันทึกวันที่ %(day)s แล้ว", day=form["day"]), "success")
    return redirect(url_for("admin_holidays.holidays", year=day.year + BE_OFFSET))


@bp.post("/<day>/delete")
def remove_day(day: str) -> Response:
    try:
        when = date.fromisoformat(day)
        with engine().db.transaction() as session:
            holiday_admin.remove_day(session, when, current_actor().username)
    except (ValueError, NotFound):
        abort(404)
    flash(_("ยกเลิกการกำหนดวันที่แล้ว ใช้ปฏิทินวันหยุดราชการตามปกติ"), "success")
    return redirect(url_for("admin_holidays.holidays", year=when.year + BE_OFFSET))


def overdue(due_at: Any) -> bool:
    """A ready task's due time has passed (the pages mark it "เกินกำหนด")."""
    if isinstance(due_at, str) and due_at:
        try:
            due_at = datetime.fromisoformat(due_at)  # the engine's views give ISO 8601 with its offset
        except ValueError:
            return False
    if not isinstance(due_at, datetime):
        return False
    return (due_at if due_at.tzinfo else due_at.replace(tzinfo=UTC)) < datetime.now(UTC)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.tests["overdue"] = overdue

