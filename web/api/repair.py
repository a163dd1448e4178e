"""POST /api/v1/instances/{id}/suspend|resume|terminate|send-back|correct|retry: admins' repairs
(engine/repair), and GET /instances/{id}/steps: the timeline of steps (engine/read/timeline.py)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from engine import storable
from engine.errors import InvalidData

from .. import engine
from . import _actor, bp

ACTIONS = {"suspend": "suspend", "resume": "resume", "terminate": "terminate", "send-back": "send_back",
           "correct": "correct", "retry": "retry"}
# What each repair reads from the body, besides `reason` and `revision`.
EXTRA = {"send_back": ("step",), "correct": ("field", "value")}


def _body() -> dict[str, Any]:
    """The body, {} when there is none (resume and retry need nothing); anything but an object is refused."""
    try:
        body = request.get_json(silent=True) if request.get_data(cache=True) else {}
    except RecursionError:
        body = None
    if not isinstance(body, dict):
        raise InvalidData.one("", "เนื้อหาคำขอต้องเป็นออบเจ็กต์ JSON")
    unreadable = storable.problems(body)
    if unreadable:
        raise InvalidData(unreadable)
    return body


def _repair(action: str, instance_id: str) -> Response:
    body = _body()
    given = {"reason": body.get("reason", ""), "revision": body.get("revision")}
    given.update({name: body.get(name) for name in EXTRA.get(action, ())})
    return jsonify(engine().repair(action, instance_id, _actor(), **given).as_json())


def _route(path: str, action: str) -> None:
    def view(instance_id: str) -> Response:
        return _repair(action, instance_id)

    view.__name__ = f"repair_{action}"
    bp.add_url_rule(f"/instances/<instance_id>/{path}", view.__name__, view, methods=["POST"])


for _path, _action in ACTIONS.items():
    _route(_path, _action)


@bp.get("/instances/<instance_id>/steps")
def instance_steps(instance_id: str) -> Response:
    """Every round of every step, how long it waited in office hours, and the returns as loops."""
    return jsonify(engine().step_timeline(instance_id, _actor()).as_json())
