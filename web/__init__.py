"""Khanton's web app: create_app() builds it from a config dict (tests pass one; no globals)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engine.service import Khanton


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=None,          # None: DATABASE_URL from the environment, else sqlite khanton.db
        PROCESSES_DIR=None,
        FORMS_DIR=None,
        MAX_CONTENT_LENGTH=6 * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.config.from_prefixed_env("KHANTON")
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["khanton"] = Khanton(
        app.config["DATABASE_URL"], app.config["PROCESSES_DIR"], app.config["FORMS_DIR"])

    from .api import bp as api_bp

    app.register_blueprint(api_bp)
    return app


def khanton(app: Flask) -> Khanton:
    engine: Khanton = app.extensions["khanton"]
    return engine
