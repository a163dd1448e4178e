"""Instances: the list of those one may see, one instance's page (data, history, attachments), downloads."""

from __future__ import annotations

from flask import Response, jsonify, render_template, request

from .. import engine
from ..auth import current_actor
from ..downloads import attachment_response
from ..i18n import STATUS_NAMES
from . import gantt
from .common import bp
from .inbox import PAGE_SIZE, page_number
from .instance_repair import repair_fields


@bp.get("/instances")
def instances() -> str:
    """Instances the person started, took part in or whose tasks reach their lanes (supervisors: all)."""
    actor = current_actor()
    process = request.args.get("process") or None
    status = request.args.get("status") if request.args.get("status") in STATUS_NAMES else None
    year_arg = request.args.get("fiscal_year", "")
    fiscal_year = int(year_arg) if year_arg.isdigit() and len(year_arg) == 4 else None
    page = page_number()
    # One row more than a page tells whether there is a next page, without counting them all.
    found = engine().instance_summaries(actor, process=process, status=status, fiscal_year=fiscal_year,
                                        limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    rows = found.rows
    return render_template("tasks/instances.html", rows=rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE,
                           page=page, procedures=found.procedures, statuses=STATUS_NAMES, process=process or "",
                           status=status or "", fiscal_year=fiscal_year or "")


@bp.get("/instances/<instance_id>")
def instance(instance_id: str) -> str:
    actor = current_actor()
    case = engine().instance_file(instance_id, actor)
    steps = engine().step_timeline(instance_id, actor)
    errors = [r for r in steps.repairs if r.kind == "error"]
    choices = engine().repair_choices(instance_id, actor) if "admin" in actor.roles else None
    answer_rounds = [step.as_json() for step in engine().answer_rounds(instance_id, actor)]
    return render_template("tasks/instance.html", case=case, steps=steps, chart=gantt.build(steps),
                           error=errors[-1] if errors and case["status"] == "error" else None, repair=choices,
                           repair_fields=repair_fields(choices) if choices else [],
                           answer_rounds=answer_rounds, instance_id=instance_id,
                           may_close_rounds=not actor.school_only)


@bp.get("/instances/<instance_id>/diagram.json")
def diagram(instance_id: str) -> Response:
    """The diagrams (the procedure's, then those it calls) and what to mark on them (instance_diagram.js)."""
    return jsonify({"processes": engine().diagram_marks(instance_id, current_actor())})


@bp.get("/attachments/<attachment_id>")
def attachment(attachment_id: str) -> Response:
    meta, content = engine().attachment(attachment_id, current_actor())
    return attachment_response(meta, content)
