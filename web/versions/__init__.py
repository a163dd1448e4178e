"""The analyst's versions of a procedure (issue 8, points 5 and 6): history, compare two versions on the
diagram, download one as a zip, and move running instances to another version — pages and API."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import login_required

from engine.authoring import compare, history, migration
from engine.errors import Conflict, Forbidden, KhantonError, NotFound

from .. import engine
from ..auth import current_actor
from ..client import address
from . import api

bp = Blueprint("versions", __name__)
MAX_KEY = 100
MAX_VERSION = 2**31 - 1
__all__ = ["api", "bp", "init_app"]


@bp.before_request
@login_required  # type: ignore[untyped-decorator]
def _analysts_only() -> None:
    """Signed in (else the sign-in page); a key no procedure can have is unknown; analysts only."""
    key = (request.view_args or {}).get("key", "")
    if not isinstance(key, str) or "\x00" in key or len(key) > MAX_KEY:
        abort(404)
    with engine().db.transaction(read_only=True) as session:
        history.history(session, key)  # 404 before 403 (api.md)
    if "analyst" not in current_actor().roles:
        raise Forbidden(_("เฉพาะนักวิเคราะห์กระบวนงาน (analyst) เท่านั้นที่ดูรุ่นและย้ายรุ่นของงานได้"))


@bp.errorhandler(KhantonError)
def _engine_error(err: KhantonError) -> tuple[str, int]:
    status = 404 if isinstance(err, NotFound) else 403 if isinstance(err, Forbidden) else \
        409 if isinstance(err, Conflict) else 400
    titles = {404: _("ไม่พบหน้าที่ต้องการ"), 403: _("ไม่มีสิทธิ์เข้าถึง")}
    return render_template("error.html", title=titles.get(status, _("ดำเนินการไม่สำเร็จ")),
                           message=err.message), status


def _number(name: str) -> int | None:
    value = request.values.get(name, "")
    if not value.isdigit() or not 1 <= int(value) <= MAX_VERSION:
        return None
    return int(value)


@bp.route("/processes/<key>/versions", methods=["GET", "POST"])
def versions(key: str) -> tuple[str, int] | str:
    """History; `?a=&b=` compares two; `?to=` previews moving running work there; POST moves the chosen."""
    actor = current_actor()
    with engine().db.transaction(read_only=True) as session:
        rows = history.history(session, key)
    numbers = {row.version for row in rows}
    newest = rows[0].version
    a, b = _number("a"), _number("b")
    comparison = None
    if a in numbers and b in numbers and a is not None and b is not None:
        with engine().db.transaction(read_only=True) as session:
            comparison = compare.compare(session, key, min(a, b), max(a, b))
    to = _number("to") or newest
    if to not in numbers:
        abort(404)
    results: list[migration.Verdict] = []
    if request.method == "POST":
        chosen = [_chosen(value) for value in request.form.getlist("instance")[:migration.MAX_INSTANCES]]
        results = migration.migrate(engine().db, key, to, [c for c in chosen if c is not None], actor,
                                    dry_run=False, address=address())
    candidates = migration.candidates(engine().db, key, to, actor)
    with engine().db.transaction(read_only=True) as session:
        rows = history.history(session, key)  # the counts after a move
    return render_template("versions/versions.html", key=key, rows=rows, comparison=comparison, a=a, b=b,
                           to=to, candidates=candidates, results=results,
                           moved=[r for r in results if r.moved], refused=[r for r in results if not r.ok])


def _chosen(value: str) -> migration.Request | None:
    """A checkbox's value: "<instance id>:<revision previewed>"."""
    instance, _sep, revision = value.partition(":")
    if not instance or len(instance) > 64 or not revision.isdigit() or len(revision) > 12:
        return None
    return migration.Request(instance, int(revision))


@bp.get("/processes/<key>/versions/<int:number>/diagram.bpmn")
def diagram(key: str, number: int) -> Response:
    """The version's XML for the page's diagram viewer."""
    with engine().db.transaction(read_only=True) as session:
        xml = history.bpmn(session, key, number)
    return Response(xml, mimetype="application/xml")


@bp.get("/processes/<key>/versions/<int:number>/download")
def download(key: str, number: int) -> Response:
    with engine().db.transaction(read_only=True) as session:
        data = history.download(session, key, number)
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{key}-v{number}.zip"'})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
