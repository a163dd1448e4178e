"""The analyst's editor: /processes/{key}/edit (bpmn-js modeler, a Thai properties panel, forms beside
the diagram), /processes/new (a new procedure from a template), and the JSON the editor's script posts
(drafts, check, publish, form preview). The engine side is engine.authoring.workbench; the same entries
are in the API under /api/v1 (web/authoring/api.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from engine.authoring import drafts
from engine.authoring.workbench import Opening, Workbench
from engine.errors import Forbidden, InvalidData, InvalidDefinition, KhantonError, NotFound, TooLarge
from engine.thai_calendar import iso_time

from .. import engine
from ..auth import current_actor
from ..i18n import be_datetime
from . import api, preview  # api: its routes join the API blueprint, before create_app registers it

bp = Blueprint("authoring", __name__)
STATUS = {NotFound: 404, Forbidden: 403, InvalidData: 422, InvalidDefinition: 422, TooLarge: 413}
MAX_ID = 2**31 - 1


def workbench() -> Workbench:
    return Workbench(engine())


def _wants_json() -> bool:
    return request.method == "POST" or request.path.endswith(("/edit/drafts", "/edit/form"))


@bp.before_request
@login_required  # type: ignore[untyped-decorator]
def _analysts_only() -> tuple[Response | str, int] | None:
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and ("\x00" in value or len(value) > 100):
            abort(404)
    if "analyst" not in current_user.actor.roles:
        message = _("เฉพาะนักวิเคราะห์กระบวนงาน (analyst) เท่านั้นที่ใช้เครื่องมือแก้ไขกระบวนงานได้")
        if _wants_json():
            return jsonify({"error": {"code": "forbidden", "message": message, "details": None}}), 403
        return render_template("error.html", title=_("ไม่มีสิทธิ์เข้าถึง"), message=message), 403
    return None


@bp.errorhandler(KhantonError)
def _engine_error(err: KhantonError) -> tuple[Response | str, int]:
    status = next((s for cls, s in STATUS.items() if isinstance(err, cls)), 400)
    if _wants_json():
        return jsonify({"error": {"code": err.code, "message": err.message, "details": err.details}}), status
    titles = {404: _("ไม่พบหน้าที่ต้องการ"), 403: _("ไม่มีสิทธิ์เข้าถึง")}
    return render_template("error.html", title=titles.get(status, _("ดำเนินการไม่สำเร็จ")),
                           message=err.message), status


def summary_json(item: drafts.DraftSummary) -> dict[str, Any]:
    return {"id": item.id, "key": item.key, "author": item.author, "saved_at": iso_time(item.saved_at),
            "note": item.note}


def body() -> dict[str, Any]:
    """The editor's JSON: {"xml", "forms", "note"}; anything else is refused before the engine."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise KhantonError(_("เนื้อหาคำขอต้องเป็นออบเจ็กต์ JSON"))
    return data


def _draft_id() -> int | None:
    raw = request.args.get("draft", "")
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise NotFound(_("ไม่พบร่างหมายเลข %(id)s", id=raw[:20]))
    return int(raw)


def _editor(opening: Opening, new: bool = False) -> str:
    names = engine().display_names(*{d.author for d in opening.drafts})
    data = {
        "key": opening.key, "name": opening.name, "xml": opening.xml, "forms": opening.forms,
        "version": opening.version, "new": new,
        "draft": summary_json(opening.draft) if opening.draft else None,
        "lanes": [{"key": lane.key, "name": lane.name, "outside": lane.outside} for lane in opening.lanes],
        "urls": {"drafts": url_for("authoring.save", key=opening.key),
                 "check": url_for("authoring.check", key=opening.key),
                 "publish": url_for("authoring.publish", key=opening.key),
                 "form": url_for("authoring.form", key=opening.key),
                 "preview": url_for("authoring.form_preview", key=opening.key),
                 "edit": url_for("authoring.edit", key=opening.key)},
        "csrf": generate_csrf(),
        "names": names,
    }
    return render_template("authoring/editor.html", opening=opening, data=data, names=names, new=new)


@bp.get("/processes/new")
def new() -> str | tuple[str, int]:
    actor = current_actor()
    lanes = workbench().lanes(actor)
    form = {k: request.args.get(k, "").strip()[:200] for k in ("key", "name", "lane")}
    error = ""
    if any(form.values()):
        if not form["name"]:
            error = _("กรุณาระบุชื่อกระบวนงานภาษาไทย")
        else:
            try:
                return _editor(workbench().open(form["key"], actor, new=(form["name"], form["lane"])), new=True)
            except KhantonError as err:
                error = err.message
    processes = engine().processes()
    return render_template("authoring/new.html", lanes=lanes, form=form, error=error,
                           processes=processes), (422 if error else 200)


@bp.get("/processes/<key>/edit")
def edit(key: str) -> str:
    return _editor(workbench().open(key, current_actor(), draft_id=_draft_id()))


@bp.get("/processes/<key>/edit/drafts")
def listed(key: str) -> Response:
    with engine().db.transaction(read_only=True) as session:
        items = drafts.drafts(session, key)
    return jsonify([summary_json(d) for d in items])


@bp.post("/processes/<key>/edit/drafts")
def save(key: str) -> tuple[Response, int]:
    sent = drafts.submitted(key, body())
    draft_id = workbench().save(key, sent.xml, sent.forms, current_actor(), sent.note)
    with engine().db.transaction(read_only=True) as session:
        items = drafts.drafts(session, key)
    names = engine().display_names(*{d.author for d in items})
    shown = [{**summary_json(d), "author_name": names.get(d.author, d.author), "saved_at_text": be_datetime(d.saved_at)}
             for d in items]
    return jsonify({"id": draft_id, "drafts": shown,
                    "url": url_for("authoring.edit", key=key, draft=draft_id)}), 201


@bp.post("/processes/<key>/edit/check")
def check(key: str) -> Response:
    sent = drafts.submitted(key, body())
    problems = workbench().check(key, sent.xml, sent.forms, current_actor())
    return jsonify({"problems": [p.as_dict() for p in problems]})


@bp.post("/processes/<key>/edit/publish")
def publish(key: str) -> tuple[Response, int]:
    sent = drafts.submitted(key, body())
    published = workbench().publish(key, sent.xml, sent.forms, current_actor(), sent.note, request.remote_addr)
    return jsonify({"key": published.key, "version": published.version, "created": published.created,
                    "url": url_for("tasks.process", key=published.key)}), 201 if published.created else 200


@bp.get("/processes/<key>/edit/form")
def form(key: str) -> Response:
    schema = workbench().form(key, request.args.get("path", "")[:200], current_actor())
    return jsonify({"schema": schema})


@bp.post("/processes/<key>/edit/preview")
def form_preview(key: str) -> Response:
    data = body()
    workbench().lanes(current_actor())  # the role check, as every entry
    return jsonify(preview.render(data.get("path", ""), data.get("schema"), data.get("values")))


def init_app(app: Flask) -> None:
    assert api.API_ROUTES, "the editor's API routes are on the API blueprint"
    app.register_blueprint(bp)
