"""Indexes the supervisor's list (/monitor) and dashboard read by, declared beside the queries that use
them (engine/read/monitor.py, engine/read/dashboard.py); engine.models imports this module, so that they
are on Base.metadata with the tables (migrations 0015 and 0016 create them)."""

from __future__ import annotations

from sqlalchemy import Index

from ..models import HumanTask, Instance

# --- the supervisor's list (/monitor, engine/read/monitor.py): its sorts and filters read in order ----

Index("ix_instances_monitor_started", Instance.started_at, Instance.id)
Index("ix_instances_monitor_updated", Instance.updated_at, Instance.id)
Index("ix_instances_monitor_process", Instance.process_key, Instance.started_at, Instance.id)
Index("ix_instances_monitor_status", Instance.status, Instance.started_at, Instance.id)
Index("ix_instances_monitor_year", Instance.fiscal_year, Instance.started_at, Instance.id)
Index("ix_instances_monitor_title", Instance.title, Instance.started_at, Instance.id)
Index("ix_human_tasks_monitor_due", HumanTask.due_at, HumanTask.instance_id)
# --- the inbox (engine/read/inbox.py): the office's rounds, those of no school ---------------------

# PostgreSQL does not take `school IS NULL` as an equality, so ix_human_tasks_inbox gives such a branch no
# order past (lane, status): it sorted every ready task of the lane, or walked ix_human_tasks_created_at
# backwards past every newer round of other lanes and statuses (20,000 after 10,000 loops: 25 ms instead
# of 0.5). Here the condition is the index's own, and created_at DESC, id is the inbox's exact order.
Index("ix_human_tasks_office_inbox", HumanTask.lane, HumanTask.status, HumanTask.created_at.desc(), HumanTask.id,
      postgresql_where=HumanTask.school.is_(None), sqlite_where=HumanTask.school.is_(None))
# --- the supervisor's dashboard (engine/read/dashboard.py) ----------------------------------------

# A procedure's instances of a year, their statuses and ids read from the index alone (an instance row
# carries ~6 KB of state); their rounds read from one index with every column the figures use; the
# overdue rounds in due order.
Index("ix_instances_dashboard", Instance.process_key, Instance.fiscal_year, Instance.status, Instance.id)
Index("ix_human_tasks_dashboard", HumanTask.instance_id, HumanTask.status, HumanTask.lane, HumanTask.task_spec,
      HumanTask.created_at, HumanTask.completed_at, HumanTask.due_at, HumanTask.assignee, HumanTask.school,
      HumanTask.completed_by)
Index("ix_human_tasks_due", HumanTask.status, HumanTask.due_at)
