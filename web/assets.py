"""Files the pages need that come from npm at set-up: the Thai font Sarabun (never from a CDN)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, send_from_directory
from werkzeug.wrappers import Response

from engine.publishing import PROJECT_ROOT

bp = Blueprint("assets", __name__)
FONT_FILE = re.compile(r"^sarabun-(thai|latin|latin-ext)-(400|600|700)-normal\.woff2$")


@bp.get("/fonts/<name>")
def font(name: str) -> Response:
    if not FONT_FILE.match(name):
        abort(404)
    folder = Path(current_app.config["FONT_DIR"])
    response = send_from_directory(folder, name, mimetype="font/woff2", max_age=30 * 24 * 3600)
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("FONT_DIR", str(PROJECT_ROOT / "node_modules" / "@fontsource" / "sarabun" / "files"))
    app.register_blueprint(bp)
