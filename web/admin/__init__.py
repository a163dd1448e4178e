"""The admin's pages (people, lanes, schools, the audit trail) and everyone's own password page."""

from __future__ import annotations

from flask import Flask

from .. import menus
from . import account, audit_page, audit_view, common, office, users

__all__ = ["account", "audit_page", "office", "users"]


def init_app(app: Flask) -> None:
    app.register_blueprint(common.bp)
    account.init_app(app)
    audit_view.init_app(app)
    menus.init_app(app)
