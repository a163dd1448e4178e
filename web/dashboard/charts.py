"""The dashboard's charts as geometry for server-drawn SVG: horizontal bars, one row per step or lane,
the median as a solid bar and the 90th percentile as a longer, lighter one (no script needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _

from engine.read.dashboard import Spread

WIDTH = 360  # the viewBox's width: about a phone's, so the text stays readable when it scales
LABEL_CHARS = 46
ROW = 46  # a row: the name, then two bars
BAR_LEFT, BAR_RIGHT = 0, 290  # bars end before the right margin kept for their figures


def duration(seconds: float) -> str:
    """A length of time in Thai: 2 วัน 3 ชม. / 5 ชม. 20 นาที / 45 นาที."""
    minutes = int(round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return str(_("%(d)s วัน %(h)s ชม.", d=days, h=hours) if hours else _("%(d)s วัน", d=days))
    if hours:
        return str(_("%(h)s ชม. %(m)s นาที", h=hours, m=minutes) if minutes else _("%(h)s ชม.", h=hours))
    return str(_("%(m)s นาที", m=minutes))


@dataclass(frozen=True)
class Bar:
    label: str  # shortened to fit
    full_label: str
    rounds: int
    y: int
    median_width: float
    p90_width: float
    median_text: str
    p90_text: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    height: int
    width: int = WIDTH


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"


def spread_chart(spreads: Sequence[Spread]) -> Chart:
    longest = max((s.p90 for s in spreads), default=0.0) or 1.0
    span = BAR_RIGHT - BAR_LEFT
    bars = [Bar(_short(s.name), s.name, s.rounds, n * ROW, max(span * s.median / longest, 1.0),
                max(span * s.p90 / longest, 1.0), duration(s.median), duration(s.p90))
            for n, s in enumerate(spreads)]
    return Chart(bars, max(len(bars) * ROW, ROW))


@dataclass(frozen=True)
class CountBar:
    label: str
    count: int
    y: int
    width: float
    status: str


def count_chart(counts: dict[str, int], names: dict[str, str]) -> tuple[list[CountBar], int]:
    most = max(counts.values(), default=0) or 1
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    bars = [CountBar(names.get(status, status), count, n * 30, max(200 * count / most, 1.0), status)
            for n, (status, count) in enumerate(rows)]
    return bars, max(len(bars) * 30, 30)
