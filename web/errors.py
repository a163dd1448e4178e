"""Errors outside any view's own handling: unknown addresses, wrong methods, unexpected failures.

Under /api/v1 they answer in the API's error shape; elsewhere a page in the person's language.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

API_PREFIX = "/api/"
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         413: "too_large", 500: "internal_error"}


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


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _unexpected)
