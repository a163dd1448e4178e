"""The admin blueprint and what its views share: admins only, engine errors shown on the page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import Forbidden, KhantonError, NotFound
from engine.people.audit import Who
from engine.people.office import People

from .. import engine
from ..auth import current_actor
from ..client import address
from ..tasks.inbox import page_number

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 25
MAX_NAME = 200  # usernames and lane keys are at most 64 characters
__all__ = ["PAGE_SIZE", "bp", "page_number", "people", "who"]


def people() -> People:
    return People(engine().db)


def who() -> Who:
    """The signed-in person and their address, for the audit trail."""
    return Who(current_actor().username, address())


@bp.before_request
@login_required  # type: ignore[untyped-decorator]
def _admins_only() -> None:
    if not current_user.is_authenticated or "admin" not in current_actor().roles:
        abort(403)
    # A name or key no row can have is unknown before the database sees it (PostgreSQL refuses a NUL).
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and ("\x00" in value or len(value) > MAX_NAME):
            abort(404)


@bp.errorhandler(KhantonError)
def _engine_error(err: KhantonError) -> tuple[str, int]:
    status = 404 if isinstance(err, NotFound) else 403 if isinstance(err, Forbidden) else 400
    return render_template("error.html", title=_("ดำเนินการไม่สำเร็จ"), message=err.message), status
