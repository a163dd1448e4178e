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

from sqlalchemy import String, bindparam, event, literal, select, union
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from ..models import Attachment, Event, HumanTask, Instance, InstanceSearch, School, User
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


_NOTHING = literal(None, String)
# Built once (a write's refresh runs it with its parameters): who started, acted or holds a round, and the
# rounds' schools, each with its name.
_PEOPLE_AND_SCHOOLS: Any = union(
    select(User.username, User.display_name, _NOTHING, _NOTHING).where(User.username == bindparam("started_by")),
    select(Event.actor, User.display_name, _NOTHING, _NOTHING)
    .outerjoin(User, User.username == Event.actor).where(Event.instance_id == bindparam("instance_id")),
    select(HumanTask.assignee, User.display_name, HumanTask.school, School.name)
    .outerjoin(User, User.username == HumanTask.assignee).outerjoin(School, School.code == HumanTask.school)
    .where(HumanTask.instance_id == bindparam("instance_id")))


def text_of(session: Session, instance: Instance) -> str:
    """The searchable text of one instance, read from the database as this transaction sees it."""
    name = versions.compiled(session, instance.version_id).name  # cached per process: no statement
    # One statement, not four: who started, acted or holds a round and the rounds' schools, each with its
    # name. UNION, not UNION ALL: distinct rows, so Python gets one per person and school, not one per
    # event and round (a return-for-revision loop adds both every time round; tests/trust/test_lean_completion.py).
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
