"""The officers' inbox: ready tasks of their lanes (and of those they act for), newest first."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .accounts import Actor, names
from .assignments import effective_actor, worker
from .people import lanes as lane_table
from .read import header, procedures
from .read import inbox as ready
from .read.rows import Count, InboxPage, InboxRow
from .rounds import returned


def inbox(session: Session, actor: Actor, lane: str | None = None, process: str | None = None,
          limit: int = 20, offset: int = 0) -> InboxPage:
    """One page of the inbox, whether another follows, and the number of tasks in it (up to a cap)."""
    person = worker(session, actor)  # one read of today's delegations for all that follows
    working, acting = person.actor, person.acting
    limit, offset = max(1, limit), max(0, offset)
    # The starter's and holder's names and which rows follow a return come with the page (ready.NAMED).
    found = ready.page(session, working, lane, process, limit + 1, offset, named=True)  # one more: a next page?
    # The page's total, the badge's waiting tasks and the header's unread notices, in one statement.
    total_n, waiting_n, unread = ready.counts(session, [
        ready.count_query(working, lane, process),
        ready.count_query(working, cap=ready.WAITING_CAP, waiting_for=actor.username, prefix="waiting_"),
        header.unread_query(actor.username)])
    total = Count.capped(total_n, ready.COUNT_CAP)
    shown = found[:limit]
    acting_names = names(session, acting.values())  # no statement when acting for nobody
    lane_names = lane_table.names(session)
    returns = returned.of_tasks(session, [task_id for task_id, *_, returned_event in shown  # NAMED's last
                                          if returned_event is not None])
    rows = []
    # By position (ready.COLUMNS, then ready.NAMED): a Row's attribute costs ~0.25 µs, ~25 per row.
    for (task_id, instance_id, name, spec, lane, _status, _school, created_at, due_at, assignee, process_key, title,
         fiscal_year, started_by, process_name, started_by_name, assignee_name, _returned) in shown:
        acting_for = acting.get(lane)
        rows.append(InboxRow(
            id=task_id, instance=instance_id, name=name, step=spec, lane=lane, lane_name=lane_names.get(lane, lane),
            process=process_key, process_name=process_name, title=title, fiscal_year=fiscal_year,
            started_by=started_by, started_by_name=started_by if started_by_name is None else started_by_name,
            created_at=created_at, due_at=due_at, assignee=assignee,
            assignee_name=assignee if assignee_name is None else assignee_name, acting_for=acting_for,
            acting_for_name=acting_names.get(acting_for or "", acting_for), returned=returns.get(task_id)))
    waiting = Count.capped(waiting_n, ready.WAITING_CAP)
    return InboxPage(rows, len(found) > limit, total, frozenset(working.works_lanes), waiting,
                     procedures.names(session), unread)


def count_waiting(session: Session, actor: Actor) -> Count:
    """Ready tasks the actor may do now: their lanes', not held by somebody else (up to 99, then "99+")."""
    return ready.count(session, effective_actor(session, actor), cap=ready.WAITING_CAP, waiting_for=actor.username)
