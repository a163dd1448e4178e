"""Pages and lists with 100,000 instances and 1,000,000 events, each ÷ a trivial GET of the same run;
and a completion then ÷ a completion on the empty database.

The officer takes part in every generated instance (bench_data): their lists are full pages read in
index order. A school's user takes part in none: their instance list is the other path of
engine/read/instance_list.py (the window is checked, then what they may see is gathered and sorted).

The HTML pages are also divided by a trivial authenticated *page* (an unknown instance's 404, drawn
in the same layout with its badge): what signing in by cookie and the layout cost every page is
then left out, and what remains is what the inbox and the list themselves add."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests import bench_dashboard, bench_monitor
from tests.bench_cycle import Cycle
from tests.bench_data import generate
from tests.bench_round_trip import TRIVIAL_PATH, completions
from tests.bench_stats import line, ratio, timed
from tests.conftest import USERS, World
from tests.web.conftest import PASSWORD, Page

FULL_SCALE = 100_000
TRIVIAL_PAGE = "/instances/no-such-instance"  # signed in by cookie, one indexed look-up, the layout


def side_by_side(read: Callable[[], object], baseline: Callable[[], object],
                 samples: int) -> tuple[list[float], list[float]]:
    """`samples` timings of each, taken in turns: on a machine shared with other work the load changes
    within seconds, and a baseline taken minutes earlier would divide by a different machine."""
    read(), baseline()  # warm-up
    measured, base = [], []
    for _ in range(max(samples, 1)):
        measured.append(timed(read))
        base.append(timed(baseline))
    return measured, base


def _ok(response: Any, what: str) -> None:
    assert response.status_code == 200, f"{what}: {response.status_code}"


def _missing(response: Any) -> None:
    assert response.status_code == 404, f"the trivial page answered {response.status_code}"


def run(world: World, cycle: Cycle, scale: float, samples: int, completion_at_0: list[float]) -> dict[str, Any]:
    count = max(int(FULL_SCALE * scale), 10)
    print(f"  generating {count:,} instances with bulk inserts…", flush=True)
    results: dict[str, Any] = {"data": generate(world, count)}
    for name in USERS:
        world.khanton.set_password(name, PASSWORD)
    page = Page(world.app.test_client())
    page.sign_in("officer")
    api, school = world.api("officer"), world.api("school")
    trivial_api = world.api("officer")

    def get() -> None:
        _missing(trivial_api.get(TRIVIAL_PATH))

    def trivial_page() -> None:
        _missing(page.get(TRIVIAL_PAGE))

    reads = {
        "inbox_api_per_trivial_get": lambda: _ok(api.get("/tasks?limit=50"), "API inbox"),
        "inbox_html_per_trivial_get": lambda: _ok(page.get("/"), "HTML inbox"),
        "instance_list_per_trivial_get": lambda: _ok(api.get("/instances?limit=100"), "instance list"),
        "instance_list_html_per_trivial_get": lambda: _ok(page.get("/instances"), "HTML instance list"),
        "instance_list_of_few_per_trivial_get": lambda: _ok(school.get("/instances?limit=100"),
                                                            "a school user's instance list"),
    }
    for key, read in reads.items():
        measured, trivial = side_by_side(read, get, samples)
        results[key] = ratio(measured, trivial, goal=3.0)
        print(line(key.replace("_per_", " ÷ ").replace("_", " "), results[key]), flush=True)
    measured, trivial = side_by_side(trivial_page, get, samples)
    results["trivial_page_per_trivial_get"] = ratio(measured, trivial)
    print(line("trivial page ÷ trivial get", results["trivial_page_per_trivial_get"]), flush=True)
    for key, read in (("inbox_html", reads["inbox_html_per_trivial_get"]),
                      ("instance_list_html", reads["instance_list_html_per_trivial_get"])):
        measured, trivial = side_by_side(read, trivial_page, samples)
        results[f"{key}_per_trivial_page"] = ratio(measured, trivial)
        print(line(f"{key.replace('_', ' ')} ÷ trivial page", results[f"{key}_per_trivial_page"]), flush=True)
    results.update(bench_monitor.run(world, get, samples, side_by_side))  # the supervisor's /monitor
    results["completion_at_scale_per_at_0"] = ratio(completions(cycle, samples), completion_at_0, goal=1.5)
    print(line(f"completion at {count:,} instances ÷ at 0", results["completion_at_scale_per_at_0"]), flush=True)
    results.update(bench_dashboard.run(world, samples, get))  # the supervisor's /monitor/dashboard
    return results
