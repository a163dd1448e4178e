"""Where a published version came from: a file (`khanton init` or `deploy`), or a person's publish.

Kept in the version's meta as {"source": {"file": "budget-transfer.bpmn", "sha256": ...}}; read and
written only here. Versions `init` loaded before sources were recorded carry no entry but were published
by "system" from processes/<key>.bpmn, so they count as loaded from that file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .models import ProcessVersion

SYSTEM = "system"  # published_by of the versions `khanton init` loads


@dataclass(frozen=True)
class Source:
    """The file a version was loaded from, and the digest of what was read from it."""

    file: str
    sha256: str

    def as_meta(self) -> dict[str, str]:
        return {"file": self.file, "sha256": self.sha256}


def digest(xml: str, own_forms: dict[str, Any]) -> str:
    """What a file and the forms it names said: the text and those forms, not the versions it calls
    (an analyst publishing a called procedure does not change this file)."""
    hashed = hashlib.sha256(xml.encode("utf-8", errors="surrogatepass"))
    hashed.update(json.dumps(own_forms, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return hashed.hexdigest()


def source_of(version: ProcessVersion) -> Source | None:
    """The file the version was loaded from, or None when a person published it (API, editor)."""
    entry = (version.meta or {}).get("source")
    if isinstance(entry, dict) and isinstance(entry.get("file"), str) and isinstance(entry.get("sha256"), str):
        return Source(entry["file"], entry["sha256"])
    if version.published_by == SYSTEM:  # loaded by `init` before sources were recorded
        return Source(f"{version.key}.bpmn", content_digest(version))
    return None


def content_digest(version: ProcessVersion) -> str:
    """The digest of a version's own text and forms, as if it had been read from a file."""
    meta = version.meta or {}
    paths = [task.get("form") for task in meta.get("tasks", {}).values()] + [meta.get("start_form")]
    return digest(version.bpmn_xml, {p: version.forms[p] for p in paths if p and p in version.forms})
