"""Importing diagrams drawn in other tools (issue 8): /processes/import for analysts, and
POST /api/v1/processes/import. The work is engine.authoring.importing's; here only the pages."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, g, jsonify, redirect, render_template, request, session, url_for
from flask_login import login_required
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as Redirect

from engine.accounts import Actor
from engine.authoring import importing
from engine.errors import Forbidden, InvalidData, InvalidDefinition, KhantonError, NotFound, TooLarge
from engine.xmlsafe import MAX_DEFINITION_BYTES

from . import api, engine
from .api.openapi import OPENAPI, _errors, _json
from .auth import csrf, current_actor

bp = Blueprint("authoring_import", __name__, url_prefix="/processes/import")
api_bp = Blueprint("api_import", __name__, url_prefix="/api/v1/processes/import")
NOTES_KEPT = 12  # notes of the last imports kept in the session for their result pages
MAX_KEY_CHARS = 100


def _analyst(actor: Actor) -> None:
    if "analyst" not in actor.roles:
        raise Forbidden("เฉพาะนักวิเคราะห์กระบวนงาน (analyst) เท่านั้นที่นำเข้าแผนภาพได้")


def _read(upload: FileStorage | None) -> bytes:
    if upload is None or not upload.filename:
        raise InvalidData.one("file", "กรุณาเลือกไฟล์ .bpmn ที่จะนำเข้า")
    data = upload.stream.read(MAX_DEFINITION_BYTES + 1)
    if len(data) > MAX_DEFINITION_BYTES:
        raise TooLarge(f"ไฟล์ใหญ่เกิน {MAX_DEFINITION_BYTES // (1024 * 1024)} MB")
    return data


def _key() -> str | None:
    key = request.form.get("key", "").strip()[:MAX_KEY_CHARS + 1]
    return key or None


def _import(actor: Actor) -> importing.Imported:
    _analyst(actor)
    upload = request.files.get("file")
    data = _read(upload)
    khanton = engine()
    return importing.import_diagram(khanton.db, khanton.forms_dir, data, actor.username, _key(),
                                    (upload.filename or "") if upload else "")


# --- pages ------------------------------------------------------------------------------------


@bp.before_request
@login_required  # type: ignore[untyped-decorator]
def _analysts_only() -> None:
    if "analyst" not in current_actor().roles:
        abort(403)


@bp.get("")
def upload() -> str:
    return render_template("importing/upload.html", error=None, problems=[], key="")


@bp.post("")
def upload_file() -> Redirect | tuple[str, int]:
    try:
        imported = _import(current_actor())
    except (InvalidDefinition, InvalidData, TooLarge) as err:
        problems = err.problems if isinstance(err, InvalidDefinition) else []
        message = err.errors[0].message if isinstance(err, InvalidData) else err.message
        status = 413 if isinstance(err, TooLarge) else 422
        return render_template("importing/upload.html", error=message, problems=problems,
                               key=request.form.get("key", "")[:MAX_KEY_CHARS]), status
    kept = dict(session.get("import_notes", {}))
    kept[str(imported.draft)] = [n[:300] for n in imported.notes]
    session["import_notes"] = dict(list(kept.items())[-NOTES_KEPT:])
    return redirect(url_for("authoring_import.result", draft_id=imported.draft), 303)


@bp.get("/<int:draft_id>")
def result(draft_id: int) -> str:
    khanton = engine()
    try:
        draft, problems = importing.recheck(khanton.db, khanton.forms_dir, draft_id)
    except NotFound:
        abort(404)
    notes = session.get("import_notes", {}).get(str(draft_id), [])
    editor = f"/processes/{draft.key}/edit?draft={draft.id}"
    return render_template("importing/result.html", draft=draft, problems=problems, notes=notes, editor=editor)


# --- API --------------------------------------------------------------------------------------


@api_bp.post("")
def import_api() -> tuple[Response, int]:
    actor: Actor = g.actor
    return jsonify(_import(actor).as_dict()), 201


OPENAPI["paths"]["/processes/import"] = {"post": {
    "summary": "Open a .bpmn drawn in another tool (Camunda, Signavio, Bizagi, ARIS, Visio...) as a draft "
               "(analysts); only what cannot be read at all is refused (422 with the reason, 413 over 5 MB)",
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "key": {"type": "string", "description": "the procedure key; else made from the process's name or id"}}}}}},
    "responses": {"201": _json({"type": "object", "required": ["key", "draft", "problems"], "properties": {
        "key": {"type": "string"}, "draft": {"type": "integer"},
        "process": {"type": "string", "description": "the imported process's id in the file"},
        "name": {"type": "string"},
        "others": {"type": "array", "items": {"type": "string"},
                   "description": "other processes in the file, kept but not run"},
        "notes": {"type": "array", "items": {"type": "string"}, "description": "what the import changed"},
        "problems": {"type": "array", "items": {"type": "object", "properties": {
            "element": {"type": "string", "nullable": True}, "line": {"type": "integer", "nullable": True},
            "message": {"type": "string"}}}}}}, "the draft and what must change before it can be published"),
        **_errors(400, 401, 403, 413, 422)}}}


# The API's own bearer tokens and error shapes.
api_bp.before_request(api._authenticate)
api_bp.register_error_handler(KhantonError, api._engine_error)
api_bp.register_error_handler(HTTPException, api._http_error)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
