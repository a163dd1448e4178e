"""Indexes the search row's refresh reads by (engine/search/index.py): who acted on an instance, who holds
its rounds and the rounds' schools, each read as distinct values by skipping through an index, so a
refresh costs the same after 10,000 return-for-revision loops as after one. engine.models imports this
module, so that they are on Base.metadata with the tables (migration 0018 creates them). Each begins with
`instance_id`, so it also serves every lookup by instance that the single-column indexes it replaced did."""

from __future__ import annotations

from sqlalchemy import Index

from ..models import Event, HumanTask

Index("ix_events_instance_actor", Event.instance_id, Event.actor)
Index("ix_human_tasks_instance_assignee", HumanTask.instance_id, HumanTask.assignee)
Index("ix_human_tasks_instance_school", HumanTask.instance_id, HumanTask.school)
