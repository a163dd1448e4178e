"""The instance page: its data, its history step by step, its attachments; and downloads."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, render_template
from werkzeug.http import quote_header_value

from ..auth import current_actor, engine
from .common import bp


@bp.get("/instances/<instance_id>")
def instance(instance_id: str) -> str:
    case = engine().instance_file(instance_id, current_actor())
    return render_template("tasks/instance.html", case=case)


@bp.get("/attachments/<attachment_id>")
def attachment(attachment_id: str) -> Response:
    meta, content = engine().attachment(attachment_id, current_actor())
    response = Response(content, mimetype=meta["content_type"])
    ascii_name = meta["filename"].encode("ascii", "replace").decode("ascii").replace("?", "_")

    response.headers["Content-Disposition"] = (
        f"attachment; filename={quote_header_value(ascii_name)}; filename*=UTF-8''{quote(meta['filename'])}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
