"""What `khanton init` loads from the office's folder of procedures, and what it leaves alone.

A file is loaded only when what it says differs from what was last loaded from that file, and never
over a newer version a person published (through the API or the editor): that version is kept and the
operator is told how to load the file deliberately (`khanton deploy FILE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from .definitions import Definition
from .models import ProcessVersion
from .sources import content_digest, source_of


class Action(Enum):
    LOAD = "load"            # to be published from the file (no version yet, or the last is from a file)
    UNCHANGED = "unchanged"  # the latest version says what the file says
    SAME_FILE = "same_file"  # the file is as last loaded; a person published a newer version since
    KEPT = "kept"            # the file changed, but a person's newer version stands: not loaded


@dataclass(frozen=True)
class Outcome:
    """What happened to one file; `version` is the new one when loaded, else the one that stands."""

    key: str
    path: Path
    action: Action
    version: int | None = None
    published_by: str | None = None
    published_at: datetime | None = None


def plan(session: Session, files: list[tuple[Path, Definition]]) -> list[Outcome]:
    """Decide, for each (file, its inspected definition), whether to load it."""
    keys = {_key(path, definition) for path, definition in files}
    history: dict[str, list[ProcessVersion]] = {}
    # The XML, forms and spec are large: loaded (lazily) only for the versions whose digest is computed.
    query = (select(ProcessVersion).where(ProcessVersion.key.in_(keys)).order_by(ProcessVersion.version.desc())
             .options(load_only(ProcessVersion.key, ProcessVersion.version, ProcessVersion.meta,
                                ProcessVersion.published_by, ProcessVersion.published_at)))
    for version in session.scalars(query):
        history.setdefault(version.key, []).append(version)
    return [_decide(path, definition, history.get(_key(path, definition), [])) for path, definition in files]


def _key(path: Path, definition: Definition) -> str:
    return definition.key or path.stem


def _decide(path: Path, definition: Definition, versions: list[ProcessVersion]) -> Outcome:
    key = _key(path, definition)
    if not versions:
        return Outcome(key, path, Action.LOAD)
    latest = versions[0]
    who = (latest.version, latest.published_by, latest.published_at)
    if not definition.problems:  # a broken file is loaded only so that its problems are told
        if _digest(latest) == definition.source_digest:
            return Outcome(key, path, Action.UNCHANGED, *who)
        loaded = [s for v in versions if (s := source_of(v)) is not None and s.file == path.name]
        if loaded and loaded[0].sha256 == definition.source_digest:
            return Outcome(key, path, Action.SAME_FILE, *who)
    return Outcome(key, path, Action.LOAD if source_of(latest) is not None else Action.KEPT, *who)


def _digest(version: ProcessVersion) -> str:
    source = source_of(version)
    return source.sha256 if source is not None else content_digest(version)
