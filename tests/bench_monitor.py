"""The supervisor's /monitor at scale (run from tests/bench_scale.py over its generated instances):
the first page, a filtered and sorted page, a deep page, and the CSV export of one day's instances,
each ÷ the same trivial authenticated GET the other lists are divided by.

The generated instances are running budget transfers started a minute apart (tests/bench_data.py), none
overdue. In the whole `make bench` the throughput section ran first, and its ~900 budget transfers (at
scale 1) wait on steps due on 20 November 2026 (the scenario's fiscal year 2570), already past when this
was written: "overdue" matches those, and the filter's set of ids is read and sorted by start (each
instance row read for it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from engine.thai_calendar import BE_OFFSET, today
from tests.bench_stats import line, ratio
from tests.conftest import World
from tests.web.conftest import Page


def _be(days_ago: int) -> str:
    day = today() - timedelta(days=days_ago)
    return f"{day.day:02d}/{day.month:02d}/{day.year + BE_OFFSET}"


def run(world: World, trivial_get: Callable[[], None], samples: int,
        side_by_side: Callable[..., tuple[list[float], list[float]]]) -> dict[str, Any]:
    page = Page(world.app.test_client())
    page.sign_in("supervisor")
    results: dict[str, Any] = {}
    one_day = f"from={_be(3)}&to={_be(3)}"

    def read(path: str, kind: str = "text/html") -> Callable[[], None]:
        def go() -> None:
            response = page.client.get(path)
            assert response.status_code == 200 and response.mimetype == kind, (path, response.status_code)
            response.get_data()  # the whole streamed export

        return go

    reads = {
        "monitor_html_per_trivial_get": read("/monitor"),
        "monitor_filtered_sorted_per_trivial_get": read("/monitor?process=budget-transfer&status=running"
                                                        "&lane=plan_officer&sort=moved"),
        "monitor_overdue_none_per_trivial_get": read("/monitor?overdue=1"),
        "monitor_page_40_per_trivial_get": read("/monitor?page=40"),
        "monitor_csv_one_day_per_trivial_get": read(f"/monitor?format=csv&{one_day}", "text/csv"),
    }
    for key, action in reads.items():
        measured, trivial = side_by_side(action, trivial_get, max(samples // 4, 3))
        results[key] = ratio(measured, trivial, goal=None if "csv" in key else 5.0)
        print(line(key.replace("_per_", " ÷ ").replace("_", " "), results[key]), flush=True)
    rows = page.client.get(f"/monitor?format=csv&{one_day}").get_data().count(b"\r\n") - 1
    results["monitor_csv_one_day_rows"] = rows
    print(f"  monitor csv of one day: {rows:,} rows", flush=True)
    return results
