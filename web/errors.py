"""Errors outside any view's own handling: unknown addresses, wrong methods, a busy database,
unexpected failures.

Under /api/v1 they answer in the API's error shape; elsewhere a page in the person's language.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

API_PREFIX = "/api/"
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         413: "too_large", 500: "internal_error", 503: "unavailable"}
SECRET_FIELDS = ("password", "csrf")  # never written back into a page (a fresh CSRF token is)
RETRY_AFTER_SECONDS = 2
Redraw = Callable[[str], ResponseReturnValue]


def redraw_when_busy(redraw: Redraw) -> None:
    """A view that takes a typed form names how to draw it again with what was typed, given a notice,
    in case the database is busy (it answers 503 then). Without one, the busy page offers to send
    the same values again."""
    g.redraw_when_busy = redraw


def _titles() -> dict[int, str]:
    return {404: _("ไม่พบหน้าที่ต้องการ"), 405: _("ใช้วิธีเรียกหน้านี้ไม่ถูกต้อง"), 413: _("ไฟล์ใหญ่เกินไป"),
            500: _("ระบบขัดข้อง")}


def _messages() -> dict[int, str]:
    return {404: _("ไม่พบหน้าที่อยู่นี้ อาจพิมพ์ที่อยู่ผิดหรือรายการถูกลบไปแล้ว"),
            405: _("หน้านี้ไม่รับคำขอแบบนี้ กรุณากลับไปเริ่มจากหน้าของระบบ"),
            413: _("ข้อมูลที่ส่งมีขนาดใหญ่เกินกำหนด ไม่มีการบันทึกข้อมูล"),
            500: _("เกิดข้อผิดพลาดที่ไม่คาดคิด ไม่มีการบันทึกข้อมูลของคำขอนี้ กรุณาลองใหม่ หากยังเกิดซ้ำโปรดแจ้งผู้ดูแลระบบ")}


def _http_error(err: HTTPException) -> tuple[Response | str, int]:
    status = err.code or 500
    message = _messages().get(status, err.description or err.name)
    if request.path.startswith(API_PREFIX):
        return jsonify({"error": {"code": CODES.get(status, "error"), "message": message, "details": None}}), status
    return render_template("error.html", title=_titles().get(status, err.name), message=message), status


def _unexpected(err: InternalServerError) -> tuple[Response | str, int]:
    # The transaction was rolled back by engine.db before the error got here.
    return _http_error(err)


def _is_busy(err: OperationalError) -> bool:
    """A lock or an unreachable database, which passes; not a broken schema (also an
    OperationalError on SQLite: "no such table"), which is a 500 for the operator to see."""
    if isinstance(err.orig, sqlite3.OperationalError):
        text = str(err.orig).lower()
        return "locked" in text or "busy" in text
    return True  # psycopg: lock and statement timeouts, lost connections (schema errors are others)


def _busy(err: OperationalError) -> ResponseReturnValue:
    """The database is locked past its timeout or out of reach: nothing was stored (engine.db rolled
    back), so the person may simply try again, and must not have to type it all again."""
    if not _is_busy(err):
        current_app.logger.error("database error", exc_info=err)
        return _http_error(InternalServerError())
    current_app.logger.warning("database busy or unavailable: %s", err.orig)
    message = _("ระบบไม่ว่าง กรุณาลองอีกครั้ง")
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith(API_PREFIX):
        body = {"code": CODES[503], "message": message + " " + _("(ไม่มีการบันทึกข้อมูลของคำขอนี้)"), "details": None}
        return jsonify({"error": body}), 503, retry
    redraw: Redraw | None = g.pop("redraw_when_busy", None)
    if redraw is not None:
        try:
            redrawn = make_response(redraw(message))
            redrawn.headers.update(retry)
            return redrawn
        except OperationalError:  # the database cannot even be read: the plain busy page below
            pass
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if not any(secret in name.lower() for secret in SECRET_FIELDS)]
    return render_template("busy.html", title=message, fields=fields, repost=request.method == "POST",
                           action=request.full_path.rstrip("?"), had_files=bool(request.files)), 503, retry


def init_app(app: Flask) -> None:
    app.register_error_handler(OperationalError, _busy)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _unexpected)
