"""The search box in the header and its results page, `/search?q=`: instances by title, document number,
school or person, among those the person may see (engine.search)."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from flask_login import login_required

from engine.errors import InvalidData
from engine.search import find

from . import engine
from .auth import current_actor
from .i18n import STATUS_NAMES
from .tasks.inbox import PAGE_SIZE, page_number

bp = Blueprint("search", __name__)


@bp.get("/search")
@login_required  # type: ignore[untyped-decorator]
def search() -> tuple[str, int]:
    query = request.args.get("q", "")
    page = page_number()
    hits: list[find.Hit] = []
    error = ""
    if query.strip():
        try:
            # One row more than a page tells whether there is a next page, without counting them all.
            with engine().db.transaction(read_only=True) as session:
                hits = find.search(session, current_actor(), query, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        except InvalidData as err:
            error = err.errors[0].message
    return render_template("search/results.html", q=query, hits=hits[:PAGE_SIZE], has_next=len(hits) > PAGE_SIZE,
                           page=page, error=error, statuses=STATUS_NAMES), (422 if error else 200)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
