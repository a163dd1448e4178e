"""`/instances/{id}/record.pdf`: the instance as a Thai government memo (บันทึกข้อความ), A4, Sarabun 16 pt,
laid out by WeasyPrint from an HTML template; for those who may open the instance page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import Forbidden, KhantonError, NotFound
from engine.record import memo

from . import engine
from .auth import current_actor

bp = Blueprint("record", __name__)
MAX_ID_LENGTH = 200


# Debian's fonts-thai-tlwg (`make pdf`): Laksaman is metric-compatible with TH Sarabun PSK, Thai and Latin
# in one file (the Sarabun the pages use comes split by script, which WeasyPrint mixes up in a PDF).
FONT_DIR = Path("/usr/share/fonts/truetype/tlwg")
FONT_FILES = {"regular": "Laksaman.ttf", "bold": "Laksaman-Bold.ttf"}


def _fonts_only(allowed: set[str]) -> Any:
    """WeasyPrint may read the memo's font files and nothing else (never the network, never other files)."""
    from weasyprint.urls import URLFetcher

    class FontsOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url not in allowed:
                raise ValueError(f"not fetched: {url[:80]}")
            return super().fetch(url, headers)

    return FontsOnly(allowed_protocols=("file",))


def render_pdf(content: memo.Memo) -> bytes:
    from weasyprint import CSS, HTML  # imported on first use: the rest of the app starts without it

    font_dir = Path(current_app.config.get("RECORD_FONT_DIR") or FONT_DIR)
    fonts = {style: (font_dir / name).resolve().as_uri() for style, name in FONT_FILES.items()}
    fetcher = _fonts_only(set(fonts.values()))
    style = CSS(string=render_template("record/memo.css", fonts=fonts), url_fetcher=fetcher)
    html = render_template("record/memo.html", memo=content)
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[style])
    return pdf


@bp.get("/instances/<instance_id>/record.pdf")
@login_required  # type: ignore[untyped-decorator]
def record_pdf(instance_id: str) -> Response:
    if "\x00" in instance_id or len(instance_id) > MAX_ID_LENGTH:
        abort(404)
    with engine().db.transaction(read_only=True) as session:
        content = memo.build(session, current_actor(), instance_id)
    response = Response(render_pdf(content), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="record-{instance_id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.errorhandler(KhantonError)
def _refused(err: KhantonError) -> tuple[str, int]:
    status = 404 if isinstance(err, NotFound) else 403 if isinstance(err, Forbidden) else 400
    title = {404: _("ไม่พบหน้าที่ต้องการ"), 403: _("ไม่มีสิทธิ์เข้าถึง")}.get(status, _("ดำเนินการไม่สำเร็จ"))
    return render_template("error.html", title=title, message=err.message), status
