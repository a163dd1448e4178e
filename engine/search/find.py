"""The search box: instances whose searchable text holds every word typed, among those the person may
list (the instance list's rule, queries.visible_to), newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts import Actor
from ..errors import InvalidData
from ..models import Instance, InstanceSearch, ProcessVersion
from ..queries import visible_to
from ..thai_calendar import iso_time
from .index import normalise

MAX_QUERY = 100
MAX_TERMS = 5
MIN_QUERY = 2  # one Thai letter matches nearly everything


@dataclass(frozen=True)
class Hit:
    """One instance found, as the results page lists it."""

    id: str
    process: str
    name: str
    title: str
    status: str
    fiscal_year: int | None
    started_at: str
    updated_at: str


def terms(query: str) -> list[str]:
    """The words of a query, each to be found somewhere in an instance's text; refused with a
    message saying why when the query is too short or too long."""
    text = normalise(query)
    if len(text) > MAX_QUERY:
        raise InvalidData.one("q", f"คำค้นยาวเกิน {MAX_QUERY} ตัวอักษร")
    if len(text.replace(" ", "")) < MIN_QUERY:
        raise InvalidData.one("q", f"พิมพ์คำค้นอย่างน้อย {MIN_QUERY} ตัวอักษร")
    return text.split(" ")[:MAX_TERMS]


def search(session: Session, actor: Actor, query: str, limit: int, offset: int = 0) -> list[Hit]:
    """Matches of `query` the actor may see; `limit` rows from `offset` (ask one more than a page to
    know whether another page follows). The matching, the visibility rule and the order run on the
    narrow search rows alone; only the page found reads the instances (a sort or a visibility check
    over their rows would read every match's workflow state: seconds at 100,000)."""
    page = (select(InstanceSearch.instance_id)
            .order_by(InstanceSearch.started_at.desc(), InstanceSearch.instance_id)
            .limit(max(1, min(limit, 200))).offset(max(0, offset)))
    for term in terms(query):
        page = page.where(InstanceSearch.text.contains(term, autoescape=True))
    # Measured at 100,000 instances (tests/bench_search.py): PostgreSQL hashes every instance an officer
    # took part in for IN (~1.3 s a search), so there each row is checked by index (EXISTS, ~0.2 s);
    # SQLite builds the IN set cheaply but probing each row costs a school's search 2.7 s instead of 0.4 s.
    per_row = session.get_bind().dialect.name == "postgresql"
    seen = visible_to(session, actor, InstanceSearch.instance_id, InstanceSearch.started_by, per_row=per_row)
    if seen is not None:
        page = page.where(seen)
    ids = list(session.scalars(page))
    rows = {i.id: (i, name) for i, name in session.execute(
        select(Instance, ProcessVersion.name).join(ProcessVersion, ProcessVersion.id == Instance.version_id)
        .where(Instance.id.in_(ids)))}
    return [Hit(id=i.id, process=i.process_key, name=name, title=i.title, status=i.status,
                fiscal_year=i.fiscal_year, started_at=iso_time(i.started_at), updated_at=iso_time(i.updated_at))
            for i, name in (rows[iid] for iid in ids if iid in rows)]
