"""The audit log for admins: people, access and definitions with every instance action, filtered, paged,
and exported as CSV (engine.people.audit_log)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from flask import Response, render_template, request, stream_with_context
from flask_babel import gettext as _

from engine.export import table
from engine.people import audit_log
from engine.read.rows import Count
from engine.thai_calendar import today

from .. import engine
from ..i18n import be_datetime
from .audit_view import action_name
from .common import bp, page_number

AUDIT_PAGE = 50
FILTERS = ("actor", "action", "target", "source", "since", "until")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _filter() -> tuple[audit_log.Filter, dict[str, str]]:
    args = {k: request.args.get(k, "").strip()[:200] for k in FILTERS}
    wanted = audit_log.Filter(actor=args["actor"], action=args["action"], target=args["target"],
                              source=args["source"], since=_day(args["since"]), until=_day(args["until"]))
    return wanted, {k: v for k, v in args.items() if v}


@bp.get("/audit")
def audit() -> str:
    wanted, args = _filter()
    page = page_number()
    with engine().db.transaction(read_only=True) as session:
        # One entry more than a page tells whether there is a next one, past the count's cap too.
        entries, found = audit_log.page(session, wanted, AUDIT_PAGE + 1, (page - 1) * AUDIT_PAGE,
                                        cap=audit_log.COUNT_CAP)
    total = Count.capped(found, audit_log.COUNT_CAP)
    pages = max(1, -(-total.n // AUDIT_PAGE))
    return render_template("admin/audit.html", entries=entries[:AUDIT_PAGE], total=total, page=page, pages=pages,
                           has_next=len(entries) > AUDIT_PAGE, args=args)


def _rows(chunks: Iterator[list[audit_log.LogEntry]]) -> Iterator[list[list[table.Cell]]]:
    for entries in chunks:
        yield [[str(be_datetime(e.at)), e.at.isoformat(), e.actor, e.address or "", action_name(e), e.action,
                e.target, e.task or "", _detail(e.detail)] for e in entries]


def _detail(detail: dict[str, Any]) -> str:
    return "; ".join(f"{key}={value}" for key, value in detail.items())


def headers() -> list[str]:
    return [_("เวลา"), _("เวลา (ISO 8601, UTC)"), _("ผู้กระทำ"), _("ที่อยู่เครือข่าย"), _("การกระทำ"),
            _("รหัสการกระทำ"), _("เป้าหมาย"), _("ขั้นตอน"), _("รายละเอียด")]


@bp.get("/audit.csv")
def audit_csv() -> Response:
    wanted, _args = _filter()
    khanton = engine()

    def pieces() -> Iterator[bytes]:
        with khanton.db.transaction(read_only=True) as session:
            for text in table.csv_text(headers(), _rows(audit_log.everything(session, wanted))):
                yield text.encode("utf-8")

    response = Response(stream_with_context(pieces()), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="khanton-audit-{today():%Y%m%d}.csv"'
    return response
