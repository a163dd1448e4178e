"""JSON API under /api/v1 (api.md): bearer tokens, errors in one shape, never a 500 for bad input."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from engine import storable
from engine.accounts import Actor
from engine.attachments import MAX_BYTES as MAX_ATTACHMENT_BYTES
from engine.errors import (
    Conflict,
    Forbidden,
    InvalidData,
    InvalidDefinition,
    KhantonError,
    NotFound,
    TooLarge,
    WorkflowFailure,
)
from engine.queries import MAX_PAGE
from engine.thai_calendar import iso_time
from engine.xmlsafe import MAX_DEFINITION_BYTES

from .. import engine
from ..downloads import attachment_response
from .openapi import INSTANCE_STATUSES, OPENAPI

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_INT_ARG = 2**31 - 1  # what a database integer holds
MAX_ID_LENGTH = 200  # ids are uuids, keys at most 100 characters
INTEGER = re.compile(r"[+-]?[0-9]{1,12}")

STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, InvalidData: 422, InvalidDefinition: 422,
          TooLarge: 413, WorkflowFailure: 422}


def error(status: int, code: str, message: str, details: Any = None) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, "details": details}}), status


@bp.errorhandler(KhantonError)
def _engine_error(err: KhantonError) -> tuple[Response, int]:
    status = next((s for cls, s in STATUS.items() if isinstance(err, cls)), 400)
    return error(status, err.code, err.message, err.details)


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException) -> tuple[Response, int]:
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
             405: "method_not_allowed", 413: "too_large"}
    status = err.code or 500
    return error(status, codes.get(status, "error"), err.description or err.name)


@bp.before_request
def _authenticate() -> tuple[Response, int] | None:
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    actor = engine().actor_for_token(token.strip()) if scheme.lower() == "bearer" and token else None
    if actor is None:
        return error(401, "unauthorized", "ต้องระบุโทเค็นที่ถูกต้อง (Authorization: Bearer TOKEN)")
    g.actor = actor
    return None


@bp.before_request
def _known_ids() -> tuple[Response, int] | None:
    """An id in the path that no row can have (a NUL byte, which PostgreSQL cannot even compare, or
    thousands of characters) is unknown: 404, before the database sees it."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and ("\x00" in value or len(value) > MAX_ID_LENGTH):
            return error(404, "not_found", "ไม่พบรายการ: รหัสในที่อยู่ไม่ใช่รหัสที่ระบบออกให้")
    return None


def _actor() -> Actor:
    actor: Actor = g.actor
    return actor


def _json_body() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON decoder goes: silent=True does not catch it
        body = None
    if not isinstance(body, dict):
        raise KhantonError("เนื้อหาคำขอต้องเป็นออบเจ็กต์ JSON")
    # Python's JSON reads NaN, Infinity, 1e400 and lone surrogates, which nothing downstream can store
    # or send back. `data` is the engine's to check (after 404/403/409, api.md's order); the rest
    # (process, to, note...) is looked up or stored as it is, so it is checked here.
    unreadable = storable.problems({name: value for name, value in body.items() if name != "data"})
    if unreadable:
        raise InvalidData(unreadable)
    return body


def _int_arg(name: str, minimum: int = -MAX_INT_ARG, maximum: int = MAX_INT_ARG) -> int | None:
    """An integer query parameter within [minimum, maximum], None when absent; else a 400 naming it."""
    value = request.args.get(name)
    if value in (None, ""):
        return None
    if not INTEGER.fullmatch(value) or not minimum <= int(value) <= maximum:
        raise KhantonError(f"พารามิเตอร์ {name} ต้องเป็นจำนวนเต็มตั้งแต่ {minimum} ถึง {maximum} (ได้รับ {value[:40]!r})")
    return int(value)


def _paging() -> dict[str, int | None]:
    return {"limit": _int_arg("limit", 1, MAX_PAGE), "offset": _int_arg("offset", 0)}


def _status_arg() -> str | None:
    status = request.args.get("status") or None
    if status is not None and status not in INSTANCE_STATUSES:
        raise KhantonError(f"พารามิเตอร์ status ต้องเป็นหนึ่งใน {', '.join(INSTANCE_STATUSES)} (ได้รับ {status[:40]!r})")
    return status


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(OPENAPI)


@bp.get("/processes")
def list_processes() -> Response:
    return jsonify(engine().processes())


@bp.get("/processes/<key>")
def get_process(key: str) -> Response:
    """A procedure with its versions and its start form, so a client knows what start data it needs."""
    form = engine().start_form(key)
    versions = [{"version": v["version"], "published_at": iso_time(v["published_at"]),
                 "published_by": v["published_by"]} for v in sorted(form["versions"], key=lambda v: v["version"])]
    return jsonify({"key": form["key"], "name": form["name"], "latest_version": form["version"],
                    "versions": versions, "start_form": {"schema": form["schema"]}})


@bp.get("/processes/<key>/bpmn")
def get_bpmn(key: str) -> Response:
    xml = engine().process_xml(key, _int_arg("version", 1))
    return Response(xml, mimetype="application/xml")


@bp.put("/processes/<key>/bpmn")
def put_bpmn(key: str) -> tuple[Response, int]:
    if request.content_length and request.content_length > MAX_DEFINITION_BYTES:
        raise TooLarge(f"ไฟล์ใหญ่เกิน {MAX_DEFINITION_BYTES // (1024 * 1024)} MB")
    body = request.get_data(cache=False)
    # A note on the version (what changed and why): ?note= or the X-Khanton-Note header (UTF-8).
    note = request.args.get("note") or request.headers.get("X-Khanton-Note", "").encode(
        "latin-1", "replace").decode("utf-8", "replace")
    published = engine().publish_xml(key, body, _actor(), note=note)
    status = 201 if published.created else 200
    return jsonify({"key": published.key, "version": published.version, "created": published.created}), status


@bp.post("/instances")
def start_instance() -> tuple[Response, int]:
    body = _json_body()
    key = body.get("process")
    if not isinstance(key, str):
        raise KhantonError("ต้องระบุ process")
    data = body.get("data", {})
    return jsonify(engine().start(key, data, _actor())), 201


@bp.get("/instances")
def list_instances() -> Response:
    return jsonify(engine().instances(
        _actor(), process=request.args.get("process") or None, status=_status_arg(),
        fiscal_year=_int_arg("fiscal_year"), **_paging()))


@bp.get("/instances/<instance_id>")
def get_instance(instance_id: str) -> Response:
    return jsonify(engine().instance(instance_id, _actor()))


@bp.get("/instances/<instance_id>/timeline")
def get_timeline(instance_id: str) -> Response:
    return jsonify(engine().timeline(instance_id, _actor()))


@bp.get("/tasks")
def list_tasks() -> Response:
    return jsonify(engine().ready_tasks(
        _actor(), lane=request.args.get("lane") or None, process=request.args.get("process") or None,
        **_paging()))


@bp.get("/tasks/<task_id>")
def get_task(task_id: str) -> Response:
    return jsonify(engine().task(task_id, _actor()))


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str) -> Response:
    body = _json_body()
    return jsonify(engine().complete(task_id, body.get("data", {}), _actor()))


@bp.put("/tasks/<task_id>/draft")
def save_draft(task_id: str) -> Response:
    body = _json_body()  # a missing or malformed `data` is the engine's 422, after 404, 403 and 409
    return jsonify(engine().save_draft(task_id, _actor(), body.get("data")))


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str) -> Response:
    return jsonify(engine().claim(task_id, _actor()))


@bp.post("/tasks/<task_id>/release")
def release_task(task_id: str) -> Response:
    return jsonify(engine().release(task_id, _actor()))


@bp.post("/tasks/<task_id>/hand-over")
def hand_over_task(task_id: str) -> Response:
    body = _json_body()
    return jsonify(engine().hand_over(task_id, _actor(), body.get("to"), body.get("note", "")))


def _attachment(summary: dict[str, Any]) -> dict[str, Any]:
    return {**summary, "uploaded_at": iso_time(summary["uploaded_at"])}


@bp.get("/tasks/<task_id>/attachments")
def list_attachments(task_id: str) -> Response:
    return jsonify([_attachment(a) for a in engine().task_attachments(task_id, _actor())])


@bp.post("/tasks/<task_id>/attachments")
def add_attachment(task_id: str) -> tuple[Response, int]:
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:  # the whole request is over MAX_CONTENT_LENGTH: say so in Thai
        raise TooLarge(f"ไฟล์ใหญ่เกิน {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB ไม่มีการบันทึกข้อมูล") from None
    # One byte past the limit is enough to refuse it; the request itself is bounded by MAX_CONTENT_LENGTH.
    content = upload.stream.read(MAX_ATTACHMENT_BYTES + 1) if upload is not None else None
    filename = (upload.filename or "") if upload is not None else ""
    return jsonify(_attachment(engine().attach(task_id, _actor(), filename, content))), 201


@bp.get("/attachments/<attachment_id>")
def download_attachment(attachment_id: str) -> Response:
    meta, content = engine().attachment(attachment_id, _actor())
    return attachment_response(meta, content)


@bp.delete("/attachments/<attachment_id>")
def remove_attachment(attachment_id: str) -> Response:
    """Remove a document one added, while its task is open (on the timeline as attachment_removed)."""
    return jsonify(_attachment(engine().remove_attachment(attachment_id, _actor())))


from . import answer_by as _answer_by  # noqa: E402,F401 - its routes join this blueprint
from . import repair as _repair  # noqa: E402,F401 - its routes join this blueprint
