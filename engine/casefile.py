"""What the officers' pages show beyond the API: procedures to start, an instance's whole file."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from . import attachments, queries, school_scope
from .accounts import Actor, names
from .assignments import effective_actor
from .definitions import latest_versions
from .models import Event, HumanTask, ProcessVersion
from .people import lanes as lane_table


def field_schemas(version: ProcessVersion) -> dict[str, dict[str, Any]]:
    """Every top-level field any form of the version defines: name -> its schema (with `ui` hints)."""
    fields: dict[str, dict[str, Any]] = {}
    for schema in version.forms.values():
        ui = schema.get("ui", {}) if isinstance(schema.get("ui"), dict) else {}
        for name, sub in schema.get("properties", {}).items():
            if isinstance(sub, dict) and name not in fields:
                fields[name] = {**sub, "x-ui": ui.get(name, {})}
    # A per-item round's item (a school's `current_school`) is one row of the collection it runs over.
    for process in version.meta.get("processes", {}).values():
        for task in process.get("tasks", {}).values():
            item, collection = task.get("input_item"), task.get("input_collection")
            rows = fields.get(collection or "", {}).get("items")
            if item and item not in fields and isinstance(rows, dict):
                fields[item] = {**rows, "title": rows.get("title") or fields[collection].get("title", item)}
    return fields


def startable(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The latest version of every published procedure, and whether the actor may start it."""
    lanes = effective_actor(session, actor).works_lanes
    result = []
    columns = (ProcessVersion.name, ProcessVersion.version, ProcessVersion.published_at, ProcessVersion.meta)
    for key, version in sorted(latest_versions(session, *columns).items()):
        start_lanes = set(version.meta["processes"][key]["start_lanes"])
        result.append({"key": key, "name": version.name, "version": version.version,
                       "published_at": version.published_at, "start_lanes": sorted(start_lanes),
                       "may_start": bool(start_lanes & lanes) if start_lanes else bool(lanes)})
    return result


def start_form(session: Session, key: str) -> dict[str, Any]:
    version = queries.process_version(session, key)
    path = version.meta.get("start_form")
    versions = session.scalars(select(ProcessVersion).where(ProcessVersion.key == key)
                               .order_by(ProcessVersion.version.desc())).all()
    return {"key": key, "name": version.name, "version": version.version,
            "schema": version.forms.get(path) if path else None,
            "start_lanes": version.meta["processes"][key]["start_lanes"],
            "versions": [{"version": v.version, "published_at": v.published_at, "published_by": v.published_by}
                         for v in versions]}


def start_data(session: Session, actor: Actor, instance_id: str) -> dict[str, Any]:
    """The data an instance was started with (to copy into next year's)."""
    instance = queries.visible_instance(session, actor, instance_id)
    event = session.scalars(select(Event).where(Event.instance_id == instance.id, Event.kind == "started")
                            .order_by(Event.id).limit(1)).first()
    return dict(event.data or {}) if event else {}


def instance_file(session: Session, actor: Actor, instance_id: str, latest_events: int | None = None
                  ) -> dict[str, Any]:
    """An instance with its history (display names; with `latest_events`, only the last that many and
    the count of all), attachments, field labels and task rounds."""
    working = effective_actor(session, actor)
    instance = queries.visible_instance(session, working, instance_id)
    view = queries.instance_view(session, instance, working)
    version = session.get(ProcessVersion, instance.version_id)
    assert version is not None
    timeline = queries.timeline(session, instance, latest_events, working)
    hidden = school_scope.hidden_rounds(session, working, instance.id)  # other schools' rounds
    counted = select(func.count(Event.id)).where(Event.instance_id == instance.id)
    if hidden:  # a school's user: other schools' rounds are not counted either
        counted = counted.where(or_(Event.task_id.is_(None), Event.task_id.not_in(sorted(hidden))))
    event_count = len(timeline) if latest_events is None else session.scalar(counted) or 0
    ready = [t for t in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                               HumanTask.status == "ready")) if t.id not in hidden]
    acting_for = [e["data"].get("acting_for") for e in timeline if isinstance(e.get("data"), dict)]
    who = names(session, [e["actor"] for e in timeline] + acting_for + [t.assignee for t in ready]
                + [instance.started_by])
    lane_names = lane_table.names(session)
    for event in timeline:
        event["actor_name"] = who.get(event["actor"], event["actor"])
        acting = (event.get("data") or {}).get("acting_for") if isinstance(event.get("data"), dict) else None
        event["acting_for_name"] = who.get(acting, acting) if isinstance(acting, str) else None
        event["lane_name"] = lane_names.get(event["lane"] or "", event["lane"])
    view["ready_tasks"] = [{"id": t.id, "name": t.name, "lane": t.lane, "lane_name": lane_names.get(t.lane, t.lane),
                            "assignee": t.assignee, "assignee_name": who.get(t.assignee or "", t.assignee),
                            "created_at": t.created_at, "due_at": t.due_at, "mine": working.may_work(t)}
                           for t in ready]
    shown = [a for a in attachments.for_instance(session, instance.id) if a["task"] not in hidden]
    view.update(timeline=timeline, event_count=event_count, attachments=shown,
                fields=field_schemas(version), started_by_name=who.get(instance.started_by, instance.started_by))
    return view


def previous_year(session: Session, actor: Actor, key: str, fiscal_year: int) -> list[dict[str, Any]]:
    """Last fiscal year's instances of `key` the actor may see, to copy start data from."""
    return queries.instances(session, effective_actor(session, actor), process=key, fiscal_year=fiscal_year - 1,
                             limit=20)
