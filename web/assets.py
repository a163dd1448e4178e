"""Files the pages need that come from npm at set-up (never from a CDN): the Thai font Sarabun, and
bpmn-js (viewer and modeler, with their stylesheets and icon font) for the diagram pages."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, send_from_directory
from werkzeug.wrappers import Response

from engine.publishing import PROJECT_ROOT

bp = Blueprint("assets", __name__)
FONT_FILE = re.compile(r"^sarabun-(thai|latin|latin-ext)-(400|600|700)-normal\.woff2$")
# Only the built files of bpmn-js's dist folder: /vendor/bpmn-js/bpmn-viewer.production.min.js,
# /vendor/bpmn-js/assets/bpmn-js.css, /vendor/bpmn-js/assets/bpmn-font/font/bpmn.woff2 ...
BPMN_FILE = re.compile(r"^(bpmn-(viewer|navigated-viewer|modeler)\.production\.min\.js"
                       r"|assets/(bpmn-js|diagram-js)\.css|assets/bpmn-font/css/bpmn(-embedded|-codes)?\.css"
                       r"|assets/bpmn-font/font/bpmn\.(woff2|woff|ttf|eot|svg))$")


@bp.get("/fonts/<name>")
def font(name: str) -> Response:
    if not FONT_FILE.match(name):
        abort(404)
    folder = Path(current_app.config["FONT_DIR"])
    response = send_from_directory(folder, name, mimetype="font/woff2", max_age=30 * 24 * 3600)
    return response


@bp.get("/vendor/bpmn-js/<path:name>")
def vendor(name: str) -> Response:
    if not BPMN_FILE.match(name):
        abort(404)
    folder = Path(current_app.config["BPMN_JS_DIR"])
    return send_from_directory(folder, name, max_age=7 * 24 * 3600)


def init_app(app: Flask) -> None:
    app.config.setdefault("BPMN_JS_DIR", str(PROJECT_ROOT / "node_modules" / "bpmn-js" / "dist"))
    app.config.setdefault("FONT_DIR", str(PROJECT_ROOT / "node_modules" / "@fontsource" / "sarabun" / "files"))
    app.register_blueprint(bp)
