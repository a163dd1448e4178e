"""Language (Thai first, English second) and the Buddhist-era dates, fiscal years and baht on pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, g, has_request_context, redirect, request, session
from flask_babel import Babel, get_locale, get_translations
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.people.office import People
from engine.read.rows import Count
from engine.roles import LANES
from engine.thai_calendar import BE_OFFSET, bangkok, clock, fiscal_year_of, thai_date, thai_datetime, today

from . import engine
from .forms_render import format_money

LANGUAGES = {"th": "ไทย", "en": "English"}
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    lang = session.get("lang")
    return lang if lang in LANGUAGES else "th"


def _as_datetime(value: Any) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date):
        return value
    try:
        return datetime.fromisoformat(str(value)) if "T" in str(value) else date.fromisoformat(str(value))
    except ValueError:
        return None


def _english() -> bool:
    """Whether this request's pages are in English. The locale is fixed for a request (Flask-Babel keeps
    it), so it is asked once and kept in `g`: a list of 50 rows formats ~100 dates, and each
    get_locale() walks Flask-Babel's context through several context-local proxies."""
    if not has_request_context():
        return str(get_locale()) == "en"
    english: bool | None = g.get("khanton_english")
    if english is None:
        english = g.khanton_english = str(get_locale()) == "en"
    return english


def _translations() -> Any:
    """The request's translations (the templates' `_`), looked up once per request for the same reason."""
    if not has_request_context():
        return get_translations()
    found = g.get("khanton_translations")
    if found is None:
        found = g.khanton_translations = get_translations()
    return found


def translate(text: str, **variables: Any) -> str:
    """flask_babel.gettext with the request's translations looked up once (for the filters a list calls
    per row: lane and status names)."""
    found: str = _translations().ugettext(text)
    return found % variables if variables else found


def be_date(value: Any) -> str:
    """25 พ.ย. 2569 (English: 25 Nov 2569 BE)."""
    moment = _as_datetime(value)
    if moment is None:
        return "" if value in (None, "") else str(value)
    day = bangkok(moment).date() if isinstance(moment, datetime) else moment
    if _english():
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year + BE_OFFSET} BE"
    return thai_date(day)


def be_datetime(value: Any) -> str:
    """25 พ.ย. 2569 14:05 น., on the Bangkok clock."""
    moment = _as_datetime(value)
    if not isinstance(moment, datetime):
        return be_date(value)
    if not _english():
        return thai_datetime(moment)
    return f"{be_date(moment)} {clock(bangkok(moment))}"


def capped(count: Count) -> str:
    """A count that stopped at its cap, as a page says it: "มากกว่า 1,000", else the number."""
    return _("มากกว่า %(n)s", n=f"{count.n:,}") if count.more else str(count.n)


def current_fiscal_year() -> int:
    return fiscal_year_of(today())


def fiscal_year(value: Any) -> str:
    if value in (None, ""):
        return ""
    return str(_("ปีงบประมาณ พ.ศ. %(year)s", year=value))


def baht(value: Any) -> str:
    return "" if value in (None, "") else format_money(value)


def file_size(size: Any) -> str:
    """A file's size as a person reads it: "45 ไบต์", "12 KB", "1.4 MB" (a small file is not "0 KB")."""
    try:
        n = int(size)
    except (TypeError, ValueError):
        return ""
    if n < 1024:
        return str(_("%(n)s ไบต์", n=n))
    if n < 1024 * 1024:
        return f"{round(n / 1024):,} KB"
    return f"{n / (1024 * 1024):,.1f} MB"


def lane_names() -> dict[str, str]:
    """The lanes' Thai names from the table (an admin renames them), read once per request."""
    if not has_request_context():
        return dict(LANES)
    if "lane_names" not in g:
        g.lane_names = People(engine().db).lane_names()
    names: dict[str, str] = g.lane_names
    return names


def lane_name(lane: str | None) -> str:
    return translate(lane_names().get(lane or "", lane or ""))


STATUS_NAMES = {
    "running": "กำลังดำเนินการ", "completed": "เสร็จสิ้น", "rejected": "ไม่เห็นชอบ (ยุติ)",
    "terminated": "ยุติ", "suspended": "ระงับชั่วคราว", "error": "ขัดข้อง",
}
EVENT_NAMES = {
    "started": "เริ่มกระบวนงาน", "completed": "ดำเนินการขั้นตอน", "returned": "ส่งกลับแก้ไข",
    "rejected": "ไม่เห็นชอบ — ยุติกระบวนงาน", "finished": "กระบวนงานเสร็จสิ้น", "timer": "ครบกำหนดเวลา",
    "claimed": "รับงาน", "released": "ปล่อยงานคืน", "handed_over": "ส่งต่องาน", "migrated": "ย้ายรุ่น",
    "suspended": "ระงับชั่วคราว", "resumed": "ดำเนินการต่อ", "terminated": "ยุติ", "error": "ขัดข้อง",
    "attachment_removed": "ลบเอกสารแนบ", "attachment_added": "แนบเอกสาร",
    "sent_back": "ผู้ดูแลระบบส่งกลับไปขั้นตอนก่อนหน้า", "corrected": "ผู้ดูแลระบบแก้ไขข้อมูล",
    "retried": "ผู้ดูแลระบบสั่งลองดำเนินการใหม่",
}


def status_name(status: str | None) -> str:
    return translate(STATUS_NAMES.get(status or "", status or ""))


def event_name(kind: str | None) -> str:
    return translate(EVENT_NAMES.get(kind or "", kind or ""))


@bp.post("/language")
def set_language() -> Response:
    lang = request.form.get("lang", "th")
    session["lang"] = lang if lang in LANGUAGES else "th"
    target = request.form.get("next") or request.referrer or "/"
    parts = urlsplit(target)
    safe = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not safe.startswith("/") or safe.startswith("//"):
        safe = "/"
    return redirect(safe)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "th")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Bangkok")
    Babel(app, locale_selector=select_locale)
    # Flask-Babel's own template callables look the translations up through its context on every `_()`
    # (a page asks ~30 times); these do it once per request. Same strings, same catalog.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n))
    app.register_blueprint(bp)
    app.jinja_env.filters.update(be_date=be_date, be_datetime=be_datetime, fiscal_year=fiscal_year,
                                 baht=baht, file_size=file_size, lane_name=lane_name, status_name=status_name,
                                 event_name=event_name, capped=capped)

    @app.context_processor
    def _languages() -> dict[str, Any]:
        return {"languages": LANGUAGES, "current_language": select_locale(),
                "current_fiscal_year": current_fiscal_year()}
