"""Who may do what (#13, part 3): every route of the app × every kind of caller, each answer checked
against the one written table of rules in docs/security.md ("Who may do what").

The table's rows name routes as `METHOD /rule` (the Flask url_map's own spelling); its columns are kinds
of caller; a cell is the class of answer expected:
  ok        the request passed the access check: 2xx, a redirect elsewhere (with no error message), or a
            refusal of the request's own (invalid) body — 400, 413, 422
  login     a page's redirect to the sign-in page
  password  a redirect to /account/password (an admin's temporary password must be changed first)
  flash     a page's refusal shown as an error message after a redirect
  401 / 403 / 404
  409       past the access check, refused as a conflict: someone else holds the task, or a stale revision
A route in no row fails the test, so that a new endpoint cannot arrive without a rule. The callers act on
one world: an answer round of one school (the target task) in an instance that a second school also
answers (for the delegates' columns: a plan officers' first step, the delegator's); the "unknown ids"
column calls every route with ids no row has, as a caller who would be refused the real ones, so a 403
never tells them what exists (api.md: 401, then 404, then 403).
Bodies are harmless or invalid, so an allowed call changes nothing that matters (a claim is released
again; removals get an attachment of their own); the end checks that the target task is still ready.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update
from werkzeug.routing import Rule

from engine.assignments import KINDS
from engine.models import ApiToken, Delegation, Instance, User
from engine.people.audit import Who
from engine.people.office import People
from engine.time import holiday_admin
from tests import battery
from tests.conftest import PASSWORD, SCHOOL_OF, World, WorldTemplate
from tests.drive import start, step
from tests.web.conftest import Page

ROOT = Path(__file__).resolve().parents[2]
SECURITY = ROOT / "docs" / "security.md"
KEY = "expenditure-analysis"
HOLIDAY = date(2031, 12, 30)
KIND = next(iter(KINDS))  # of delegation
UNKNOWN = "no-such-id-0000"
METHODS = ("GET", "POST", "PUT", "DELETE")
CLASSES = {"ok", "login", "password", "flash", "401", "403", "404", "409"}


# --- the table ----------------------------------------------------------------------------------------

@dataclass
class Table:
    columns: list[str]
    expected: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (method, rule) -> cells


def read_table(text: str) -> Table:
    """The Markdown table under "## Who may do what" whose first columns are "rule" and "routes"."""
    section = text.split("## Who may do what", 1)[1].split("\n## ", 1)[0].splitlines()
    start = next((i for i, line in enumerate(section) if _cells(line)[:2] == ["rule", "routes"]), None)
    assert start is not None, "docs/security.md 'Who may do what' has no table whose columns begin 'rule | routes'"
    lines = []
    for line in section[start:]:
        if not line.strip().startswith("|"):
            break
        lines.append(line)
    header = _cells(lines[0])
    table = Table(columns=header[2:])
    for line in lines[2:]:
        cells = _cells(line)
        assert len(cells) == len(header), f"row with {len(cells)} cells, header has {len(header)}: {line}"
        values = dict(zip(table.columns, cells[2:], strict=True))
        for value in values.values():
            assert value in CLASSES, f"unknown cell {value!r} in row {cells[0]!r}; use one of {sorted(CLASSES)}"
        for route in re.findall(r"`([A-Z]+) ([^`]+)`", cells[1]):
            assert route not in table.expected, f"{route} is in two rows of the table"
            table.expected[route] = values
    return table


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_the_table_is_well_formed() -> None:
    table = read_table(SECURITY.read_text(encoding="utf-8"))
    assert set(table.columns) == set(CALLERS), f"columns {table.columns} but callers {sorted(CALLERS)}"
    assert len(table.expected) >= 100


# --- the callers ---------------------------------------------------------------------------------------

# Column -> who calls ("": nobody signed in). How each presents itself is set up in Matrix: "expired" and
# "revoked" hold a dead token and session, "unknown ids" is the other lane's officer with ids no row has.
CALLERS: dict[str, str] = {
    "signed out": "",
    "expired": "expired_one",
    "revoked": "revoked_one",
    "deactivated": "gone",
    "must change password": "renewing",
    "school, lane": "school",
    "held by another": "school2_mate",
    "other school": "outsider",
    "other lane": "committee",
    "plan officer": "officer",
    "delegate": "deputy",
    "delegation ended": "former_deputy",
    "analyst": "analyst",
    "supervisor": "supervisor",
    "admin": "admin",
    "unknown ids": "committee",
}


@dataclass
class Target:
    """What the path parameters name: for most columns a school's round (`task`) in an instance two schools
    answer; for the delegates' columns the plan officers' first step of another instance."""

    instance: str
    task: str
    task_spec: str
    attachment: str
    draft: int
    delegation_ended: int
    spare_token: int


class Matrix:
    """The world, the target, and one API token and one signed-in page client per column."""

    def __init__(self, world: World) -> None:
        self.world = world
        khanton = world.khanton
        khanton.add_user("admin", ["admin"], [], PASSWORD)
        school = SCHOOL_OF["school"]
        for name in ("expired_one", "revoked_one", "gone", "renewing"):
            khanton.add_user(name, ["officer"], ["school"], PASSWORD, school=school)
        khanton.add_user("deputy", ["officer"], ["committee"], PASSWORD)
        khanton.add_user("former_deputy", ["officer"], ["committee"], PASSWORD)
        khanton.add_user("spare", ["officer"], ["committee"], PASSWORD)
        khanton.add_user("school2_mate", ["officer"], ["school"], PASSWORD, school=SCHOOL_OF["school2"])
        self.people = People(khanton.db)
        admin = Who("admin", "127.0.0.1")
        today = date.today()
        khanton.delegate(khanton.actor("officer"), "deputy", KIND, today - timedelta(days=1),
                         today + timedelta(days=5))
        khanton.delegate(khanton.actor("officer"), "former_deputy", KIND, today - timedelta(days=9),
                         today - timedelta(days=2))
        self.tokens = dict(world.tokens)
        for name in ("admin", "expired_one", "revoked_one", "gone", "renewing", "deputy", "former_deputy",
                     "school2_mate"):
            self.tokens[name] = khanton.issue_token(name)
        khanton.issue_token("spare")
        with khanton.db.transaction() as session:
            ids = {u.username: u.id for u in session.scalars(select(User))}
            session.execute(update(ApiToken).where(ApiToken.user_id == ids["expired_one"])
                            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
            revoked = session.scalar(select(ApiToken.id).where(ApiToken.user_id == ids["revoked_one"]))
            spare = session.scalar(select(ApiToken.id).where(ApiToken.user_id == ids["spare"]))
        assert revoked is not None and spare is not None
        self.people.revoke_token(admin, "revoked_one", revoked)
        self.temporary = self.people.reset_password(admin, "renewing")  # signs in with it, must change it
        with khanton.db.transaction() as session:  # a day of the admin's that the admin's delete may take back
            holiday_admin.set_day(session, HOLIDAY, "วันหยุดของตาราง", True, "admin")

        office = start(world, KEY)  # its first step is the plan officers': the delegates' target
        office_task = office["ready_tasks"][0]
        assert office_task["lane"] == "plan_officer", office_task
        office_attachment = khanton.attach(office_task["id"], khanton.actor("officer"), "บันทึก.pdf", b"%PDF-1.4 o")
        instance = start(world, KEY)
        _, instance = step(world, instance)
        rounds = {t["school"]: t["id"] for t in instance["ready_tasks"]}
        task = rounds[school]
        spec = world.api("supervisor").get(f"/tasks/{task}").get_json()["step"]
        attachment = khanton.attach(task, khanton.actor("school"), "หนังสือ.pdf", b"%PDF-1.4 matrix")["id"]
        draft = world.api("analyst").post(f"/processes/{KEY}/drafts", json={
            "xml": world.api("analyst").get(f"/processes/{KEY}/bpmn").get_data(as_text=True)})
        assert draft.status_code in (200, 201), draft.get_json()
        with khanton.db.transaction(read_only=True) as session:
            ended = session.scalar(select(Delegation.id).where(Delegation.delegate == "former_deputy"))
        assert ended is not None
        self.target = Target(instance["id"], task, spec, attachment, int(draft.get_json()["id"]), ended, spare)
        self.office = Target(office["id"], office_task["id"], "", office_attachment["id"], self.target.draft, ended,
                             spare)
        # The second school's round in the same instance, claimed by that school's user: a colleague of the
        # same school and lane finds it held by another.
        held = rounds[SCHOOL_OF["school2"]]
        khanton.claim(held, khanton.actor("school2"))
        held_attachment = khanton.attach(held, khanton.actor("school2"), "ของโรงเรียนที่สอง.pdf", b"%PDF-1.4 h")["id"]
        self.held = Target(instance["id"], held, spec, held_attachment, self.target.draft, ended, spare)

        self.pages: dict[str, Page] = {}
        for column, name in CALLERS.items():
            self.pages[column] = self._page(column, name)
        # After signing in: the deactivated one is deactivated with a session and a token in hand.
        self.people.set_active(admin, "gone", False)
        self.instances = self.count_instances()

    def count_instances(self) -> int:
        with self.world.khanton.db.transaction(read_only=True) as session:
            return len(session.scalars(select(Instance.id)).all())

    def _page(self, column: str, name: str) -> Page:
        page = Page(self.world.app.test_client())
        if not name:
            page.get("/login")
            return page
        response = page.sign_in(name, self.temporary if column == "must change password" else PASSWORD)
        assert response.status_code == 302, (name, page.html[:500])
        if column == "expired":
            with page.client.session_transaction() as session:
                session["seen_at"] = 0
        if column == "revoked":  # a copy of the cookie kept from before signing out
            cookie = page.client.get_cookie("session")
            assert cookie is not None
            page.get("/")
            page.post("/logout")
            page.client.set_cookie("session", cookie.value)
        return page

    def api_client(self, column: str) -> tuple[FlaskClient, dict[str, str]]:
        name = CALLERS[column]
        headers = {"Authorization": f"Bearer {self.tokens[name]}"} if name else {}
        return self.world.app.test_client(), headers


@pytest.fixture(scope="module")
def matrix(world_template: WorldTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    world = World.copied(world_template, tmp_path_factory.mktemp("matrix") / "khanton.db")
    yield Matrix(world)
    world.close()


# --- the calls -----------------------------------------------------------------------------------------

def routes(matrix: Matrix) -> list[tuple[str, Rule]]:
    found = []
    for rule in matrix.world.app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & set(METHODS)):
            found.append((method, rule))
    return sorted(found, key=lambda mr: (mr[1].rule == "/logout", mr[1].rule, mr[0]))


DELEGATES = {"delegate", "delegation ended"}


def target_of(matrix: Matrix, column: str) -> tuple[Target, str]:
    """The column's target, and who works it (who adds the documents a removal takes away)."""
    if column in DELEGATES:
        return matrix.office, "officer"
    if column == "held by another":
        return matrix.held, "school2"
    return matrix.target, "school"


def values(matrix: Matrix, rule: Rule, method: str, column: str) -> dict[str, Any]:
    unknown = column == "unknown ids"
    t, worker = target_of(matrix, column)
    if rule.arguments & {"attachment_id"} and method != "GET" and not unknown:  # a removal gets its own
        khanton = matrix.world.khanton
        owner = khanton.actor(worker)
        t.attachment = khanton.attach(t.task, owner, "สำเนา.pdf", b"%PDF-1.4 copy")["id"]
    known: dict[str, Any] = {
        "instance_id": t.instance, "task_id": t.task, "attachment_id": t.attachment, "key": KEY,
        "draft_id": t.draft, "a": 1, "b": 1, "task_spec": matrix.target.task_spec, "username": "spare",
        "token_id": t.spare_token, "day": HOLIDAY.isoformat(), "action": "suspend",
        "delegation_id": t.delegation_ended, "number": 1, "name": "sarabun-thai-400-normal.woff2",
        "filename": "css/app.css"}
    if rule.endpoint == "assets.vendor":
        known["name"] = "bpmn-viewer.production.min.js"
    if unknown:
        known.update({"instance_id": UNKNOWN, "task_id": UNKNOWN, "attachment_id": UNKNOWN, "key": "no-such-process",
                      "draft_id": 999999, "task_spec": "no_such_step", "username": "no_such_user",
                      "token_id": 999999, "delegation_id": 999999, "a": 998, "b": 999, "number": 999})
    return {name: known[name] for name in rule.arguments}


def api_body(rule: Rule) -> dict[str, Any]:
    """A body each API route refuses as invalid, or accepts harmlessly, once past the access check."""
    path = rule.rule
    if path.endswith("/hand-over"):
        return {"json": {"to": ""}}
    if path.endswith("/complete"):
        return {"json": {"data": "not an object"}}
    if path.endswith("/draft"):
        return {"json": {"data": {}}}
    if path == "/api/v1/instances":
        return {"json": {"process": KEY, "data": "not an object"}}
    if path.endswith("/attachments"):
        return {"data": {}, "content_type": "multipart/form-data"}
    if path.endswith("/bpmn") or path.endswith("/import") or path.endswith("/validate"):
        return {"data": b"", "content_type": "application/xml"}
    return {"json": {"revision": -1, "reason": "", "data": "not an object"}}


def page_form(rule: Rule) -> dict[str, Any]:
    if rule.rule == "/language":
        return {"lang": "th"}
    if "/repair/" in rule.rule:  # confirmed, with a revision no page showed: 404, 403, then 409
        return {"revision": "-1", "confirm": "yes"}
    if rule.endpoint == "admin.set_active":  # active already: nothing changes
        return {"active": "1"}
    if "/rounds/" in rule.rule:
        return {"revision": "0"}
    if rule.endpoint == "tasks.hand_over":  # a school's user of another school: never a colleague (422)
        return {"to": "school2"}
    return {}


def classify(response: Any, flashed: list[tuple[str, str]] | None = None) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        if "/login" in response.headers.get("Location", ""):
            return "login"
        if response.headers.get("Location", "").endswith("/account/password"):
            return "password"
        return "flash" if any(category == "error" for category, _ in flashed or []) else "ok"
    if status in (401, 403, 404):
        return str(status)
    if status == 409:
        return "409"
    if status < 300 or status in (400, 413, 422):
        return "ok"
    return str(status)


def call(matrix: Matrix, column: str, method: str, rule: Rule) -> tuple[Any, list[tuple[str, str]]]:
    """The answer, and the messages a page flashed with it (taken, so that the next call starts clean)."""
    response = _send(matrix, column, method, rule)
    flashed: list[tuple[str, str]] = []
    if not response.request.path.startswith("/api/"):
        with matrix.pages[column].client.session_transaction() as session:
            flashed = list(session.pop("_flashes", []))
    return response, flashed


def _send(matrix: Matrix, column: str, method: str, rule: Rule) -> Any:
    adapter = matrix.world.app.url_map.bind("localhost")
    path = adapter.build(rule.endpoint, values(matrix, rule, method, column), method=method)
    if path.startswith("/api/"):
        client, headers = matrix.api_client(column)
        kw = api_body(rule) if method != "GET" else {}
        return client.open(path, method=method, headers=headers, **kw)
    page = matrix.pages[column]
    if method == "GET":
        return page.client.get(path)
    form = page_form(rule)
    if rule.endpoint == "tasks.attach":  # a real file: allowed, it is one more attachment
        form["file"] = (BytesIO(b"%PDF-1.4 matrix"), "matrix.pdf")
    if rule.endpoint == "authoring_import.upload_file":
        form["file"] = (BytesIO(b""), "")
    return page.client.open(path, method=method, data={**form, "csrf_token": _csrf(page)})


def _csrf(page: Page) -> str:
    """The form's CSRF token, as a page this browser holds would carry it (flask_wtf keeps the raw token in
    the session and signs it into the form): the answer then depends on who asks, never on which page the
    client happened to load before."""
    with page.client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    secret = page.client.application.config["SECRET_KEY"]
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


def after_call(matrix: Matrix, column: str, method: str, rule: Rule, response: Any) -> None:
    """Put back what an allowed call changed: a claim is released. (Signing out comes last of all routes.)"""
    if rule.endpoint in ("api.claim_task", "tasks.claim") and response.status_code in (200, 302):
        khanton = matrix.world.khanton
        target, _worker = target_of(matrix, column)
        try:
            khanton.release(target.task, khanton.actor(CALLERS[column]))
        except Exception:  # noqa: BLE001 - nothing was claimed (a redirect back with a refusal)
            pass


def unruled(found: list[tuple[str, Rule]], table: Table) -> list[str]:
    """The app's routes that no row of the table names."""
    return [f"{method} {rule.rule}" for method, rule in found if (method, rule.rule) not in table.expected]


def test_a_route_in_no_row_is_named(matrix: Matrix) -> None:
    """A new endpoint without a rule fails the matrix, naming it: here the table without its sign-out row."""
    text = SECURITY.read_text(encoding="utf-8")
    without = "\n".join(line for line in text.splitlines() if "`POST /logout`" not in line)
    assert unruled(routes(matrix), read_table(without)) == ["POST /logout"]
    assert unruled(routes(matrix), read_table(text)) == []


def test_every_route_answers_every_caller_as_the_table_says(matrix: Matrix) -> None:
    table = read_table(SECURITY.read_text(encoding="utf-8"))
    found = routes(matrix)
    missing = unruled(found, table)
    assert not missing, ("routes in no row of docs/security.md's table 'Who may do what' — add each to the row "
                         "whose rule it follows, or a new row:\n  " + "\n  ".join(missing))
    stale = sorted(set(table.expected) - {(m, r.rule) for m, r in found})
    assert not stale, f"rows name routes the app no longer has: {stale}"
    wrong: list[str] = []
    seen: Counter[str] = Counter()
    for method, rule in found:
        for column in CALLERS:
            response, flashed = call(matrix, column, method, rule)
            got = classify(response, flashed)
            after_call(matrix, column, method, rule, response)
            # A streamed answer (the CSV exports) keeps its request's context, and Flask-Login's user in `g`,
            # until it is closed, as a WSGI server does: else the next caller would be taken for this one.
            response.close()
            seen[got] += 1
            want = table.expected[(method, rule.rule)][column]
            if got != want:
                wrong.append(f"{method} {rule.rule} as {column}: {got} ({response.status_code}), table says {want}")
    battery.add(battery.CASES, sum(seen.values()))
    battery.add(battery.REFUSED, sum(seen[c] for c in ("401", "403", "404", "409", "login", "password", "flash")))
    assert sum(seen.values()) == len(found) * len(CALLERS)
    assert len(found) >= 100 and len(CALLERS) == 16
    assert not wrong, f"{len(wrong)} answers disagree with the table:\n  " + "\n  ".join(wrong)
    # Nothing an allowed call sent changed the targets: the rounds still ready, free or held by the one who
    # held it, and no instance started.
    for user, target, holder in (("school", matrix.target, None), ("officer", matrix.office, None),
                                 ("school2", matrix.held, "school2")):
        task = matrix.world.api(user).get(f"/tasks/{target.task}")
        assert task.status_code == 200 and task.get_json()["holder"] == holder, task.get_json()
        assert matrix.world.api(user).get(f"/instances/{target.instance}").get_json()["status"] == "running"
    assert matrix.count_instances() == matrix.instances
    battery.add(battery.INSTANCES, 2)  # the office's instance and the schools' one
