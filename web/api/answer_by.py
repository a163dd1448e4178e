"""GET /api/v1/instances/{id}/rounds and POST /api/v1/instances/{id}/rounds/{step}/close: the answer-by
dates of per-school rounds (engine/rounds/answer_by.py), as the instance page offers them."""

from __future__ import annotations

from flask import Response, jsonify

from engine.errors import InvalidData

from .. import engine
from . import _actor, bp
from .repair import _body


@bp.get("/instances/<instance_id>/rounds")
def answer_rounds(instance_id: str) -> Response:
    """Each per-school step with an answer-by date: who answered, who has not yet, who is late."""
    return jsonify([step.as_json() for step in engine().answer_rounds(instance_id, _actor())])


@bp.post("/instances/<instance_id>/rounds/<task_spec>/close")
def close_late_rounds(instance_id: str, task_spec: str) -> Response:
    """After the answer-by date: close the rounds still open and go on with the answers received."""
    revision = _body().get("revision")
    if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int)):
        raise InvalidData.one("revision", "revision ต้องเป็นจำนวนเต็ม (รุ่นของกระบวนงานที่เห็น)")
    closed = engine().close_late_rounds(instance_id[:40], task_spec[:200], _actor(), revision)
    return jsonify({"closed": closed})
