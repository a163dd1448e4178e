"""api.md's order of refusals — 401, then 404, then 403, then 409, then 422 — for the requests whose body
was checked before the caller's right to send it: admins' repairs and the analyst's drafts and checks.
Found by the access matrix (test_access_matrix.py): anyone got 422 "give a reason" from an admin's repair,
even for an instance that does not exist, instead of 404 / 403."""

from __future__ import annotations

from tests import battery
from tests.conftest import World
from tests.drive import start

REPAIRS = ("suspend", "terminate", "send-back", "correct")


def test_a_repair_without_a_reason_is_refused_by_who_asks_before_what_they_sent(world: World) -> None:
    instance = start(world, "expenditure-analysis")
    world.khanton.add_user("admin", ["admin"], [])
    world.tokens["admin"] = world.khanton.issue_token("admin")
    for action in REPAIRS:
        path = f"/instances/{instance['id']}/{action}"
        answers = {
            "unknown id, officer": world.api("officer").post(f"/instances/no-such-instance/{action}", json={}),
            "officer": world.api("officer").post(path, json={}),
            "supervisor": world.api("supervisor").post(path, json={}),
            "stale revision, admin": world.api("admin").post(path, json={"revision": -1}),
            "admin": world.api("admin").post(path, json={}),
        }
        statuses = {who: response.status_code for who, response in answers.items()}
        assert statuses == {"unknown id, officer": 404, "officer": 403, "supervisor": 403,
                            "stale revision, admin": 409, "admin": 422}, (action, statuses)
        battery.add(battery.CASES, len(answers))
        battery.add(battery.REFUSED, len(answers))
    # The instance is untouched: no repair went through.
    assert world.api("officer").get(f"/instances/{instance['id']}").get_json()["status"] == "running"
    battery.add(battery.INSTANCES, 1)


def test_drafts_and_checks_refuse_a_non_analyst_before_reading_the_body(world: World) -> None:
    for path in ("/processes/expenditure-analysis/drafts", "/processes/expenditure-analysis/validate"):
        for body in ({}, {"xml": 5}):
            assert world.api("officer").post(path, json=body).status_code == 403, (path, body)
            assert world.api("supervisor").post(path, json=body).status_code == 403, (path, body)
        assert world.api("analyst").post(path, json={"xml": 5}).status_code in (400, 422), path
    battery.add(battery.CASES, 10)
    battery.add(battery.REFUSED, 10)
