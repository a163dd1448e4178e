"""A procedure's published versions as the history page shows them, and one version as a zip."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import Instance, ProcessVersion

RUNNING = "running"


@dataclass(frozen=True)
class VersionRow:
    """One immutable version: number, who published it, when, their note, and how many run on it."""

    version: int
    name: str
    published_by: str
    published_at: datetime
    note: str
    running: int


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def history(session: Session, key: str) -> list[VersionRow]:
    """Newest first; NotFound for a procedure never published."""
    counts = dict(session.execute(
        select(Instance.version_id, func.count(Instance.id))
        .where(Instance.process_key == key, Instance.status == RUNNING).group_by(Instance.version_id)).all())
    rows = session.execute(select(ProcessVersion.id, ProcessVersion.version, ProcessVersion.name,
                                  ProcessVersion.published_by, ProcessVersion.published_at, ProcessVersion.note)
                           .where(ProcessVersion.key == key).order_by(ProcessVersion.version.desc())).all()
    if not rows:
        raise NotFound(f"ไม่พบกระบวนงาน {key}")
    return [VersionRow(r.version, r.name, r.published_by, _aware(r.published_at), r.note or "",
                       int(counts.get(r.id, 0))) for r in rows]


def bpmn(session: Session, key: str, number: int) -> str:
    xml = session.scalar(select(ProcessVersion.bpmn_xml).where(ProcessVersion.key == key,
                                                               ProcessVersion.version == number))
    if xml is None:
        raise NotFound(f"ไม่พบรุ่นที่ {number} ของกระบวนงาน {key}")
    return xml


def download(session: Session, key: str, number: int) -> bytes:
    """A zip of the version: `<key>.bpmn`, its forms under `forms/` as published, and `version.json`."""
    row = session.scalar(select(ProcessVersion).where(ProcessVersion.key == key, ProcessVersion.version == number))
    if row is None:
        raise NotFound(f"ไม่พบรุ่นที่ {number} ของกระบวนงาน {key}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{key}.bpmn", row.bpmn_xml)
        for path, schema in sorted(row.forms.items()):
            safe = "/".join(part for part in str(path).split("/") if part not in ("", ".", ".."))
            archive.writestr(f"forms/{safe}", json.dumps(schema, ensure_ascii=False, indent=2) + "\n")
        archive.writestr("version.json", json.dumps({
            "key": key, "version": row.version, "name": row.name, "published_by": row.published_by,
            "published_at": _aware(row.published_at).isoformat(), "note": row.note or "",
            "content_hash": row.content_hash}, ensure_ascii=False, indent=2) + "\n")
    return buffer.getvalue()
