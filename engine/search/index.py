"""The search table kept current: every transaction that writes an instance, its events or its tasks
rewrites that instance's row of searchable text before it commits, whichever code path wrote them.

The text is normalised (`normalise`: engine.search.find treats a query the same way), one
part per line so a match never spans two parts: the title and the procedure's name; document numbers
(fields named *_no, *_number, reference); schools (codes and names, of rounds and of rows in the data);
people (usernames and display names of whoever started, acted or holds a task).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import bindparam, event, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from ..models import Attachment, Event, HumanTask, Instance, InstanceSearch
from ..runtime import versions

TOUCHED = "khanton_search_touched"  # session.info key: ids of instances written in this transaction
_DOCUMENT_KEY = re.compile(r"(^|_)(no|number|ref|reference)$")
MAX_TEXT = 20_000  # a pathological instance (thousands of rows) still costs one bounded row


_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def normalise(text: str) -> str:
    """How stored text and queries are compared: NFKC (SARA AM typed as NIKHAHIT + SARA AA is one
    letter, full-width Latin is ASCII), Thai digits as Arabic (๓๔๕/๒๕๖๙ is 345/2569), casefolded
    (Latin letters in document numbers), runs of spaces as one."""
    text = unicodedata.normalize("NFKC", text).translate(_THAI_DIGITS).casefold()
    return " ".join(text.split())


def _documents(data: Any) -> Iterator[str]:
    """Document numbers anywhere in the data, and the code and name of any school-like row."""
    if isinstance(data, dict):
        if isinstance(data.get("code"), str) and isinstance(data.get("name"), str):
            yield data["code"]
            yield data["name"]
        for key, value in data.items():
            if isinstance(value, str) and _DOCUMENT_KEY.search(str(key)):  # a number, not a count
                yield value
            elif isinstance(value, dict | list):
                yield from _documents(value)
    elif isinstance(data, list):
        for item in data:
            yield from _documents(item)


def _distinct(name: str, table: str, column: str) -> str:
    """A recursive CTE naming each distinct non-null `column` of one instance's rows, in order: each step
    seeks the next larger value through an index that begins (instance_id, column)
    (engine/search/indexes.py), so the work is one seek per distinct value, however many rows there are.
    SQLite and PostgreSQL both plan `min()` over an index prefix as one seek."""
    return (f"{name}(value) AS (SELECT (SELECT min({column}) FROM {table} WHERE instance_id = :instance_id) "
            f"UNION ALL SELECT (SELECT min({column}) FROM {table} WHERE instance_id = :instance_id "
            f"AND {column} > {name}.value) FROM {name} WHERE {name}.value IS NOT NULL)")


# Built once (a write's refresh runs it with its parameters): who started, acted or holds a round, and the
# rounds' schools, each with its name. A return-for-revision loop adds events and rounds every time round
# but no new person: reading them all made a completion after 10,000 loops cost 4× one at the start.
_PEOPLE_AND_SCHOOLS: Any = text(
    "WITH RECURSIVE "
    + ", ".join((_distinct("actors", "events", "actor"), _distinct("holders", "human_tasks", "assignee"),
                 _distinct("codes", "human_tasks", "school")))
    + " SELECT people.value, users.display_name, NULL, NULL FROM "
    "(SELECT value FROM actors UNION SELECT value FROM holders UNION SELECT CAST(:started_by AS VARCHAR(64))) "
    "AS people LEFT OUTER JOIN users ON users.username = people.value WHERE people.value IS NOT NULL "
    "UNION ALL SELECT NULL, NULL, codes.value, schools.name FROM codes "
    "LEFT OUTER JOIN schools ON schools.code = codes.value WHERE codes.value IS NOT NULL")


def text_of(session: Session, instance: Instance) -> str:
    """The searchable text of one instance, read from the database as this transaction sees it."""
    name = versions.compiled(session, instance.version_id).name  # cached per process: no statement
    # One statement, not four: who started, acted or holds a round and the rounds' schools, each with its
    # name, one row per person and school (tests/trust/test_lean_completion.py, test_read_plans.py).
    people: set[str] = {instance.started_by}
    codes: set[str] = set()
    display: dict[str, str] = {}
    schools: dict[str, str] = {}
    person: str | None
    person_name: str | None
    school: str | None
    school_name: str | None
    for person, person_name, school, school_name in session.execute(
            _PEOPLE_AND_SCHOOLS, {"instance_id": instance.id, "started_by": instance.started_by}):
        if person:
            people.add(person)
            if person_name is not None:
                display[person] = person_name
        if school:
            codes.add(school)
            if school_name is not None:
                schools[school] = school_name
    parts: list[str] = [instance.title, name]
    parts += _documents(instance.data or {})
    parts += [f"{code} {schools.get(code, '')}" for code in sorted(codes)]
    parts += [p if display.get(p, p) == p else f"{p} {display[p]}" for p in sorted(people)]
    seen: dict[str, None] = {}
    for part in parts:
        if normalise(part):
            seen.setdefault(normalise(part), None)
    return "\n".join(seen)[:MAX_TEXT]


def _upsert(insert_of: Any) -> Any:
    """INSERT … ON CONFLICT DO UPDATE … WHERE the text changed, in the dialect's own syntax (SQLite and
    PostgreSQL both have it); built once per dialect and run with each row's parameters."""
    insert = insert_of(InstanceSearch).values(
        instance_id=bindparam("instance_id"), started_at=bindparam("started_at"),
        started_by=bindparam("started_by"), text=bindparam("text"))
    return insert.on_conflict_do_update(index_elements=[InstanceSearch.instance_id],
                                        set_={"text": insert.excluded.text},
                                        where=InstanceSearch.text.is_distinct_from(insert.excluded.text))


_UPSERTS = {"sqlite": _upsert(sqlite_insert), "postgresql": _upsert(postgresql_insert)}


def refresh(session: Session, instance_ids: Iterable[str]) -> None:
    """Write each instance's search row in one statement, inserting it if missing (a new instance, or one
    written before the search table existed) and rewriting its text only if the text changed: the row
    is not read first (it was, in a statement of its own, on every write)."""
    upsert = _UPSERTS[session.get_bind().dialect.name]
    for instance_id in sorted(set(instance_ids)):
        instance = session.get(Instance, instance_id)
        if instance is None:
            continue  # deleted in this transaction: its row goes with it (ON DELETE CASCADE)
        session.execute(upsert, {"instance_id": instance_id, "started_at": instance.started_at,
                                 "started_by": instance.started_by, "text": text_of(session, instance)})


def fill_missing(session: Session, batch: int = 500) -> int:
    """Rows for instances written before the search table existed (khanton init after an upgrade)."""
    done = 0
    while True:
        missing = list(session.scalars(select(Instance.id).where(
            ~Instance.id.in_(select(InstanceSearch.instance_id))).limit(batch)))
        if not missing:
            return done
        refresh(session, missing)
        session.flush()
        done += len(missing)


def _instance_of(obj: object) -> str | None:
    if isinstance(obj, Instance):
        return obj.id
    if isinstance(obj, Event | HumanTask | Attachment):
        return obj.instance_id
    return None


def _after_flush(session: Session, _context: Any) -> None:
    touched: set[str] = session.info.setdefault(TOUCHED, set())
    for obj in [*session.new, *session.dirty]:
        instance_id = _instance_of(obj)
        if instance_id:
            touched.add(instance_id)


def _before_commit(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # what is still pending may touch an instance
    touched = session.info.pop(TOUCHED, set())
    if touched:
        refresh(session, touched)  # flushed by the commit; search rows touch no instance


def _after_rollback(session: Session) -> None:
    session.info.pop(TOUCHED, None)


def keep_current(sessions: sessionmaker[Session]) -> None:
    """Rewrite the search rows of the instances each transaction touches, inside it."""
    event.listen(sessions, "after_flush", _after_flush)
    event.listen(sessions, "before_commit", _before_commit)
    event.listen(sessions, "after_soft_rollback", lambda session, _previous: _after_rollback(session))
