"""The editor's entries in the JSON API (/api/v1, bearer tokens): drafts, validate, publish a draft.

They join the API blueprint (web/api) so they share its authentication, error shape and refusals;
this module is imported before create_app registers that blueprint (web/authoring/__init__.py).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from engine.authoring import drafts
from engine.authoring.workbench import Workbench
from engine.errors import KhantonError
from engine.thai_calendar import iso_time

from .. import engine
from ..api import _actor, _json_body, bp

MAX_ID = 2**31 - 1
API_ROUTES = ("list_process_drafts", "save_process_draft", "get_process_draft", "validate_process",
              "publish_process_draft")


def _bench() -> Workbench:
    return Workbench(engine())


def _summary(item: drafts.DraftSummary) -> dict[str, Any]:
    return {"id": item.id, "key": item.key, "author": item.author, "saved_at": iso_time(item.saved_at),
            "note": item.note}


def _id(value: int) -> int:
    if not 0 < value <= MAX_ID:
        raise KhantonError("หมายเลขร่างไม่ถูกต้อง")
    return value


@bp.get("/processes/<key>/drafts")
def list_process_drafts(key: str) -> Response:
    _bench().lanes(_actor())  # analysts only
    with engine().db.transaction(read_only=True) as session:
        return jsonify([_summary(d) for d in drafts.drafts(session, key)])


@bp.post("/processes/<key>/drafts")
def save_process_draft(key: str) -> tuple[Response, int]:
    _bench().lanes(_actor())  # analysts only: refused before the body is read (api.md: 403 before 400/422)
    sent = drafts.submitted(key, _json_body())
    draft_id = _bench().save(key, sent.xml, sent.forms, _actor(), sent.note)
    return jsonify({"id": draft_id, "key": key}), 201


@bp.get("/processes/<key>/drafts/<int:draft_id>")
def get_process_draft(key: str, draft_id: int) -> Response:
    opening = _bench().open(key, _actor(), draft_id=_id(draft_id))
    assert opening.draft is not None
    return jsonify({**_summary(opening.draft), "xml": opening.xml, "forms": opening.forms})


@bp.post("/processes/<key>/validate")
def validate_process(key: str) -> Response:
    """{"xml", "forms"} or {"draft": id} -> {"problems": [{"element", "line", "message"}]} (empty: publishable)."""
    bench = _bench()
    bench.lanes(_actor())  # analysts only: refused before the body is read (api.md: 403 before 400/422)
    body = _json_body()
    if "draft" in body:
        if not isinstance(body["draft"], int) or isinstance(body["draft"], bool):
            raise KhantonError("draft ต้องเป็นหมายเลขร่าง")
        opening = bench.open(key, _actor(), draft_id=_id(body["draft"]))
        xml, forms = opening.xml, opening.forms
    else:
        sent = drafts.submitted(key, body)
        xml, forms = sent.xml, sent.forms
    problems = bench.check(key, xml, forms, _actor())
    return jsonify({"problems": [p.as_dict() for p in problems]})


@bp.post("/processes/<key>/drafts/<int:draft_id>/publish")
def publish_process_draft(key: str, draft_id: int) -> tuple[Response, int]:
    body = _json_body() if request.get_data(cache=True) else {}
    note = body.get("note", "")
    published = _bench().publish_draft(key, _id(draft_id), _actor(), note if isinstance(note, str) else "",
                                       request.remote_addr)
    return jsonify({"key": published.key, "version": published.version, "created": published.created}), \
        201 if published.created else 200
