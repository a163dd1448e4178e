"""An attachment as a download: its own type, a safe file name (Thai included), never run by a browser."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import Response, send_file


def attachment_response(meta: dict[str, Any], content: bytes) -> Response:
    """Werkzeug writes the name as RFC 6266 `filename` (ASCII) and `filename*` (UTF-8), so a Thai name
    arrives intact and no name can break the header; the type is the one checked at upload."""
    response = send_file(BytesIO(content), mimetype=meta["content_type"], as_attachment=True,
                         download_name=meta["filename"], etag=False)
    response.headers["Cache-Control"] = "private, no-store"  # an office's documents: no shared cache keeps them
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
