"""Errors outside any view's own handling: unknown addresses, wrong methods, a busy database,
unexpected failures.

Under /api/v1 they answer in the API's error shape; elsewhere a page in the person's language.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from engine.faults import FULL, UNAVAILABLE, Fault, classify

API_PREFIX = "/api/"
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         413: "too_large", 500: "internal_error", 503: "unavailable",
         507: "insufficient_storage"}
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


def _unexpected(err: InternalServerError) -> ResponseReturnValue:
    # The transaction was rolled back by engine.db before the error got here. A database failure met
    # while another error was being answered (a CSRF refusal loads the person first) is still that.
    if isinstance(err.original_exception, DBAPIError) and classify(err.original_exception):
        return _busy(err.original_exception)
    return _http_error(err)


def _answers(fault: Fault) -> tuple[int, str, str]:
    """Status, title and explanation for each kind of database failure (engine.faults)."""
    if fault == FULL:
        return (507, _("พื้นที่เก็บข้อมูลของระบบเต็ม ไม่มีการบันทึกข้อมูลของคำขอนี้"),
                _("กรุณาแจ้งผู้ดูแลระบบให้เพิ่มพื้นที่เก็บข้อมูล ข้อมูลที่ส่งมายังเก็บไว้ในหน้านี้ เมื่อแก้ไขแล้วกดปุ่มด้านล่างเพื่อส่งอีกครั้ง"))
    if fault == UNAVAILABLE:
        return (503, _("ติดต่อฐานข้อมูลไม่ได้ชั่วคราว กรุณาลองอีกครั้งในอีกสักครู่"),
                _("ระบบติดต่อฐานข้อมูลไม่ได้ ข้อมูลที่ส่งมายังไม่ได้บันทึก แต่ยังเก็บไว้ในหน้านี้ กดปุ่มด้านล่างเพื่อส่งอีกครั้ง"))
    return (503, _("ระบบไม่ว่าง กรุณาลองอีกครั้ง"),
            _("มีผู้ใช้งานบันทึกข้อมูลพร้อมกันจำนวนมาก ข้อมูลที่ส่งมายังไม่ได้บันทึก แต่ยังเก็บไว้ในหน้านี้ กดปุ่มด้านล่างเพื่อส่งอีกครั้ง"))


def _busy(err: DBAPIError) -> ResponseReturnValue:
    """The database is locked past its timeout, out of reach, or full: nothing was stored (engine.db
    rolled back), so the person may send it again once it passes, and must not have to type it all
    again. Any other database error is a 500 for the operator to see."""
    fault = classify(err)
    if fault is None:
        current_app.logger.error("database error", exc_info=err)
        return _http_error(InternalServerError())
    current_app.logger.warning("database %s: %s", fault, err.orig)
    status, message, explanation = _answers(fault)
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}
    if request.path.startswith(API_PREFIX):
        body = {"code": CODES[status], "message": message + " " + _("(ไม่มีการบันทึกข้อมูลของคำขอนี้)"), "details": None}
        return jsonify({"error": body}), status, retry
    redraw: Redraw | None = g.pop("redraw_when_busy", None)
    if redraw is not None:
        try:
            redrawn = make_response(redraw(message))
            redrawn.status_code = status
            redrawn.headers.update(retry)
            return redrawn
        except DBAPIError:  # the database cannot even be read: the plain busy page below
            pass
    # Drawn without the database, which may be out of reach: as to someone signed out (no menus, no
    # counts, which each read it; the person's session is untouched), or the page itself would fail.
    g._login_user = AnonymousUserMixin()
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if not any(secret in name.lower() for secret in SECRET_FIELDS)]
    return render_template("busy.html", title=message, explanation=explanation, fields=fields,
                           repost=request.method == "POST", action=request.full_path.rstrip("?"),
                           had_files=bool(request.files)), status, retry


def init_app(app: Flask) -> None:
    # A lock, an outage, a full disk; InterfaceError: psycopg's "the connection is closed". Integrity
    # and programming errors stay unexpected (500), as before.
    app.register_error_handler(OperationalError, _busy)
    app.register_error_handler(InterfaceError, _busy)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _unexpected)
