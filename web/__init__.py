"""Khanton's web app: create_app() builds it from a config dict (tests pass one; no globals)."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, current_app, g
from flask.json.provider import DefaultJSONProvider

from engine import origin
from engine.service import Khanton
from engine.thai_calendar import iso_time

from .client import address as client_address


def _json_default(value: Any) -> Any:
    """Times in ISO 8601 with their offset, dates in ISO 8601 (Flask's own default is RFC 822)."""
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return DefaultJSONProvider.default(value)


class _JsonProvider(DefaultJSONProvider):
    default = staticmethod(_json_default)
    ensure_ascii = False


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.json = _JsonProvider(app)
    app.config.from_mapping(
        DATABASE_URL=None,          # None: DATABASE_URL from the environment, else sqlite khanton.db
        PROCESSES_DIR=None,
        FORMS_DIR=None,
        MAX_CONTENT_LENGTH=6 * 1024 * 1024,
        JSON_AS_ASCII=False,
        # `khanton serve` passes KHANTON_SECRET_KEY or the key kept in ./khanton.secret; this random
        # one is for apps built in tests.
        SECRET_KEY=secrets.token_hex(32),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
    )
    app.config.from_prefixed_env("KHANTON")
    if config:
        app.config.update(config)
    app.extensions["khanton"] = Khanton(
        app.config["DATABASE_URL"], app.config["PROCESSES_DIR"], app.config["FORMS_DIR"])

    _unit_of_work_per_request(app)
    from . import admin, assets, auth, client, errors, headers, holidays, i18n, notifications, search_page, tasks
    from .api import bp as api_bp
    from .authoring import init_app as authoring_init_app  # adds its API routes before api_bp is registered
    from .dashboard import bp as dashboard_bp
    from .monitor import init_app as init_monitor
    from .record import bp as record_bp
    from .versions import init_app as versions_init_app  # imported before api_bp is registered: adds its routes

    app.register_blueprint(api_bp)
    auth.init_app(app)
    auth.csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    i18n.init_app(app)
    assets.init_app(app)
    tasks.init_app(app)
    versions_init_app(app)
    search_page.init_app(app)
    holidays.init_app(app)
    notifications.init_app(app)
    admin.init_app(app)
    authoring_init_app(app)
    client.init_app(app)
    errors.init_app(app)
    from . import authoring_import  # issue 8: /processes/import and POST /api/v1/processes/import

    authoring_import.init_app(app)
    app.register_blueprint(dashboard_bp)  # the supervisor's /monitor/dashboard
    app.register_blueprint(record_bp)  # /instances/{id}/record.pdf
    headers.init_app(app)
    init_monitor(app)  # after the API's blueprint: its read-only guard follows the bearer token
    return app


def _unit_of_work_per_request(app: Flask) -> None:
    """One unit of work per request (flaskr's connection in `g`): every engine call the request makes,
    authentication first, shares one session and, as far as the database allows, one transaction
    (engine.db.UnitOfWork); the session is opened on first use and closed when the request ends."""

    @app.before_request
    def _open() -> None:
        g.khanton_unit = engine().db.open_unit()
        g.khanton_origin = origin.begin(client_address())  # events written in this request carry it

    @app.teardown_request
    def _close(_error: BaseException | None) -> None:
        token = g.pop("khanton_unit", None)
        origin_token = g.pop("khanton_origin", None)
        if origin_token is not None:
            origin.end(origin_token)
        if token is not None:
            engine().db.close_unit(token)


def engine() -> Khanton:
    """The engine bound to the app serving the current request."""
    khanton: Khanton = current_app.extensions["khanton"]
    return khanton
