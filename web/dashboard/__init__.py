"""`/monitor/dashboard`: the supervisor's figures for one procedure and fiscal year (engine/read/dashboard.py),
with charts drawn as SVG on the server. Supervisors and admins only."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import Blueprint, Flask, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from engine.read import dashboard, procedures

from .. import engine
from ..auth import current_actor
from ..i18n import STATUS_NAMES
from . import charts

bp = Blueprint("dashboard", __name__)

MAX_ARG = 100  # a procedure's key is at most 100 characters
# Figures are kept per procedure and year for a minute (per process): at 100,000 instances of one
# procedure and year a computation reads every round's index entry (docs/performance.md), and a
# supervisor reloading or several supervisors at once need not repeat it. The page says when.
CACHE_SECONDS = 60.0
CACHE_SIZE = 64
_lock = threading.Lock()


Listed = tuple[tuple[str, str], ...]  # the procedures of the page's selector: (key, name)
DRAWN_SIZE = 4  # bodies kept per figures: one per language (and list of procedures, should it change)


@dataclass
class Figures:
    """A procedure's fiscal years and figures, and the page's body drawn from them: the figures are
    fixed while kept, so their charts and tables are drawn once per language (and list of procedures,
    read on every request), not on every request."""

    years: list[int]
    board: dashboard.Dashboard
    drawn: dict[tuple[str, Listed], Markup] = field(default_factory=dict)


def _figures(process: str, year: int | None) -> Figures:
    seconds = float(current_app.config.get("DASHBOARD_CACHE_SECONDS", CACHE_SECONDS))
    kept: OrderedDict[tuple[str, int | None], tuple[float, Figures]]
    kept = current_app.extensions.setdefault("dashboard_figures", OrderedDict())
    with _lock:
        found = kept.get((process, year))
    if found is not None and time.monotonic() - found[0] < seconds:
        return found[1]
    with engine().db.transaction(read_only=True) as session:
        figures = Figures(dashboard.years(session, process), dashboard.build(session, process, year))
    with _lock:
        kept[(process, year)] = (time.monotonic(), figures)
        kept.move_to_end((process, year))
        while len(kept) > CACHE_SIZE:
            kept.popitem(last=False)
    return figures


def _refused(title: str, message: str, status: int) -> tuple[str, int]:
    return render_template("error.html", title=title, message=message), status


@bp.get("/monitor/dashboard")
@login_required  # type: ignore[untyped-decorator]
def dashboard_page() -> tuple[str, int]:
    if not current_actor().reads_all:
        return _refused(_("ไม่มีสิทธิ์เข้าถึง"),
                        _("หน้าภาพรวมการดำเนินงานเปิดให้เฉพาะผู้กำกับติดตามและผู้ดูแลระบบ"), 403)
    process_arg = request.args.get("process", "")[:MAX_ARG + 1]
    year_arg = request.args.get("fiscal_year", "")
    with engine().db.transaction(read_only=True) as session:
        listed = procedures.names(session)
        known = dict(listed)
        process = process_arg or (listed[0][0] if listed else "")
        if process not in known:
            return _refused(_("ไม่พบกระบวนงาน"), _("ไม่พบกระบวนงานที่เลือก กรุณาเลือกจากรายการ"), 404)
        if year_arg and not (year_arg.isdigit() and len(year_arg) == 4):
            return _refused(_("ปีงบประมาณไม่ถูกต้อง"),
                            _("ปีงบประมาณต้องเป็นปีพุทธศักราช 4 หลัก เช่น 2570"), 400)
        year = int(year_arg) if year_arg else None
    figures = _figures(process, year)
    key = (str(get_locale()), tuple(listed))
    body = figures.drawn.get(key)
    if body is None:
        body = _draw(figures, listed)
        with _lock:
            if len(figures.drawn) >= DRAWN_SIZE:
                figures.drawn.clear()
            figures.drawn[key] = body
    return render_template("dashboard/dashboard.html", body=body), 200


def _draw(figures: Figures, listed: list[tuple[str, str]]) -> Markup:
    """The page's body: nothing in it depends on the person or the request but the language."""
    board = figures.board
    status_bars, status_height = charts.count_chart(board.statuses, {k: _(v) for k, v in STATUS_NAMES.items()})
    return Markup(render_template(
        "dashboard/_body.html", board=board, procedures=listed, years=figures.years,
        steps=charts.spread_chart(board.steps), lanes=charts.spread_chart(board.lanes),
        status_bars=status_bars, status_height=status_height, duration=charts.duration))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
