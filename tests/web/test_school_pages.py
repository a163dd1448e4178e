"""A school's officer on the pages: their inbox holds their school's round only, the instance page
shows their own answer and never another school's, and an uninvolved school is refused."""

from __future__ import annotations

from typing import Any

from tests.conftest import SCHOOL_OF, World
from tests.drive import data_for, scenario, start, step

KEY = "expenditure-analysis"


def test_a_school_works_and_reads_only_its_own_round_on_the_pages(web: World, page_as: Any) -> None:
    web.khanton.add_user("school_deputy", ["officer"], ["school"], "pass-1234", "รองผู้อำนวยการ", SCHOOL_OF["school"])
    web.khanton.add_user("school2_deputy", ["officer"], ["school"], "pass-1234", "ครูโรงเรียนที่สอง",
                         SCHOOL_OF["school2"])
    instance = start(web, KEY)
    _, instance = step(web, instance)
    rounds = {t["school"]: t["id"] for t in instance["ready_tasks"]}
    mine, theirs = rounds[SCHOOL_OF["school"]], rounds[SCHOOL_OF["school2"]]
    # The other school answers first, with a figure that must never reach this school's pages.
    api = web.api("school2")
    answer = {**data_for(api.get(f"/tasks/{theirs}").get_json(), scenario(KEY)["steps"]), "teacher_count": 987654}
    assert api.post(f"/tasks/{theirs}/complete", json={"data": answer}).status_code == 200

    school = page_as("school")
    school.get("/")
    assert f"/tasks/{mine}" in school.html and f"/tasks/{theirs}" not in school.html
    assert "โรงเรียนบ้านสาธิตเมืองตาก" in school.html and "โรงเรียนบ้านสาธิตวังเจ้า" not in school.html
    assert school.get(f"/tasks/{theirs}").status_code == 403
    school.get(f"/tasks/{mine}")
    assert "987654" not in school.html and "987,654" not in school.html
    # Its own school is shown labelled by the listing form, not as a raw key.
    assert "current_school" not in school.html and "รหัสสถานศึกษา:" in school.html
    # Hand-over offers colleagues of the same school only.
    assert 'value="school_deputy"' in school.html and 'value="school2_deputy"' not in school.html
    form = {"student_count": "120", "teacher_count": "8", "projects.0.plan_project": "ซ่อมห้องเรียน",
            "projects.0.category": "งบลงทุน", "projects.0.amount": "45,000", "reported_by": "ครูสมศรี"}
    done = school.post(f"/tasks/{mine}", form)
    assert done.status_code == 302, school.html
    school.get(f"/instances/{instance['id']}")
    assert "ซ่อมห้องเรียน" in school.html
    assert "987654" not in school.html and "987,654" not in school.html
    assert page_as("supervisor").get(f"/instances/{instance['id']}").status_code == 200
    assert "987654" in page_as("supervisor").get(f"/instances/{instance['id']}").get_data(as_text=True)

    outsider = page_as("outsider")
    assert outsider.get(f"/instances/{instance['id']}").status_code == 403
    outsider.get("/instances")
    assert instance["id"] not in outsider.html

