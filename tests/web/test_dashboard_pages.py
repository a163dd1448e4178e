"""/monitor/dashboard as pages: supervisors and admins see the figures of real instances as SVG charts;
others are refused in Thai; hostile selectors are refused and change nothing."""

from __future__ import annotations

from typing import Any

from tests.conftest import World
from tests.drive import start, step


def test_the_supervisor_sees_charts_of_real_work(web: World, page_as: Any) -> None:
    instance = start(web, "budget-transfer", {"fiscal_year": 2570})
    for _ in range(2):
        _, instance = step(web, instance)
    start(web, "budget-transfer", {"fiscal_year": 2569})
    page = page_as("supervisor")
    assert 'href="/monitor/dashboard"' in page.get("/").get_data(as_text=True)  # in the supervisor's menu
    response = page.get("/monitor/dashboard?process=budget-transfer&fiscal_year=2570")
    assert response.status_code == 200
    html = page.html
    assert 'id="chart-steps"' in html and 'id="chart-lanes"' in html and 'role="img"' in html
    assert '<option value="2570" selected>' in html and '<option value="2569"' in html
    assert "มัธยฐาน" in html and "กำลังดำเนินการ" in html
    assert "<script" not in html.split("<main", 1)[1]  # no script needed for the charts


def test_others_are_refused_in_thai(web: World, page_as: Any) -> None:
    for name in ("officer", "analyst", "school"):
        response = page_as(name).get("/monitor/dashboard")
        assert response.status_code == 403
        assert "เฉพาะผู้กำกับติดตามและผู้ดูแลระบบ" in response.get_data(as_text=True)
    assert page_as().get("/monitor/dashboard").status_code == 302  # not signed in: to the sign-in page


def test_hostile_selectors_are_refused(web: World, page_as: Any) -> None:
    page = page_as("supervisor")
    for query, status, words in (("process=x" * 500, 404, "ไม่พบกระบวนงานที่เลือก"),
                                 ("process=budget-transfer&fiscal_year=25700", 400, "ปีพุทธศักราช 4 หลัก"),
                                 ("process=budget-transfer&fiscal_year=%27%3B--", 400, "ปีพุทธศักราช 4 หลัก"),
                                 ("process=%00", 404, "ไม่พบกระบวนงาน")):
        response = page.get(f"/monitor/dashboard?{query}")
        assert response.status_code == status, query
        assert words in page.html
    assert page.get("/monitor/dashboard").status_code == 200  # the first procedure, every year


def test_admins_read_it_and_figures_are_kept_a_minute(web: World, page_as: Any) -> None:
    web.khanton.add_user("keeper", ["admin"], [], "pass-1234", "นางสาวนิภา ดูแลระบบ")
    start(web, "budget-transfer", {"fiscal_year": 2570})
    page = page_as("keeper")
    path = "/monitor/dashboard?process=budget-transfer&fiscal_year=2570"
    assert page.get(path).status_code == 200
    assert 'id="dash-instances">1</strong>' in page.html
    start(web, "budget-transfer", {"fiscal_year": 2570})
    page.get(path)
    assert 'id="dash-instances">1</strong>' in page.html  # the figures of a minute ago
    web.app.config["DASHBOARD_CACHE_SECONDS"] = 0
    page.get(path)
    assert 'id="dash-instances">2</strong>' in page.html
