"""The versions API under /api/v1 (api.md): compare two versions, move running instances.

The routes join the API blueprint (its bearer tokens, its error shape); this module is imported before
the app registers that blueprint (web/__init__.py)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from engine.authoring import compare, history, migration
from engine.errors import FieldError, Forbidden, InvalidData, NotFound

from .. import engine
from ..api import _actor, _json_body, bp
from ..client import address

MAX_VERSION = 2**31 - 1
WHAT_INSTANCES = 'แต่ละรายการต้องเป็นรหัสงาน หรือ {"id": รหัสงาน, "revision": เลขที่ได้จากการตรวจสอบ}'


def _revision(value: object) -> bool:
    return value is None or (type(value) is int and 0 < value <= MAX_VERSION)


def _known(key: str, *numbers: int) -> None:
    """404 for an unknown procedure or version, before 403 (api.md's order)."""
    with engine().db.transaction(read_only=True) as session:
        known = {row.version for row in history.history(session, key)}
    for number in numbers:
        if number not in known:
            raise NotFound(f"ไม่พบรุ่นที่ {number} ของกระบวนงาน {key}")


def _analyst() -> None:
    if "analyst" not in _actor().roles:
        raise Forbidden("เฉพาะนักวิเคราะห์กระบวนงาน (analyst) เท่านั้นที่เปรียบเทียบรุ่นและย้ายรุ่นของงานได้")


@bp.get("/processes/<key>/versions/<int:a>/compare/<int:b>")
def compare_versions(key: str, a: int, b: int) -> Response:
    _known(key, a, b)
    _analyst()
    with engine().db.transaction(read_only=True) as session:
        return jsonify(compare.compare(session, key, a, b).as_dict())


def _requests(value: Any) -> list[migration.Request]:
    if not isinstance(value, list) or len(value) > migration.MAX_INSTANCES:
        raise InvalidData.one("instances", f"instances ต้องเป็นรายการรหัสงาน (ไม่เกิน {migration.MAX_INSTANCES} รายการ)")
    found = []
    for item in value:
        if isinstance(item, str) and 0 < len(item) <= 64:
            found.append(migration.Request(item))
        elif isinstance(item, dict) and isinstance(item.get("id"), str) and 0 < len(item["id"]) <= 64 and \
                _revision(item.get("revision")):
            found.append(migration.Request(item["id"], item.get("revision")))
        else:
            raise InvalidData([FieldError("instances", WHAT_INSTANCES)])
    return found


@bp.post("/processes/<key>/migrate")
def migrate(key: str) -> Response:
    """{"to": n, "instances": [id or {"id", "revision"}...], "dry_run": bool} → each ok or refused, why."""
    body = _json_body()
    to = body.get("to")
    number = to if type(to) is int and 0 < to <= MAX_VERSION else None
    _known(key, *([number] if number is not None else []))
    _analyst()
    if number is None:
        raise InvalidData.one("to", "to ต้องเป็นเลขรุ่นของกระบวนงาน")
    chosen = _requests(body.get("instances"))
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidData.one("dry_run", "dry_run ต้องเป็น true หรือ false")
    results = migration.migrate(engine().db, key, number, chosen, _actor(), dry_run=dry_run, address=address())
    return jsonify({"to": number, "dry_run": dry_run, "results": [r.as_dict() for r in results]})

