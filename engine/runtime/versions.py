"""Published process versions compiled once per process, and handed out read-only.

A version never changes once published (design.md, "Definitions"), so its parsed SpiffWorkflow spec,
its meta and its forms may be kept per process (design.md, "Database"). What callers get cannot be
changed under other requests: the meta is deep-frozen (read-only mappings and tuples), a form is a fresh
dict decoded from JSON text on each call, and the spec objects are SpiffWorkflow's, which its workflows
only read (tests/test_versions_cache.py checks that running instances leaves a spec as it was).
The cache is keyed by the version's id in one database: one cache per Database (`Session.info`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import ProcessVersion
from ..spiff import SERIALIZER

CACHE_KEY = "khanton_versions"  # where a Database puts its VersionCache in each Session.info
CACHE_SIZE = 256  # versions kept per process; an office has tens, a country a few hundred live at once
OBJECT_FORM: Mapping[str, Any] = MappingProxyType({"type": "object"})


def freeze(value: Any) -> Any:
    """A read-only deep copy of JSON: mappings become MappingProxyType, lists tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class CompiledVersion:
    """What running an instance needs of its version: never the XML, parsed once."""

    id: int
    key: str
    version: int
    name: str
    meta: Mapping[str, Any]  # frozen
    forms_json: Mapping[str, str]  # form name -> its JSON Schema as text
    spec: Any  # SpiffWorkflow BpmnProcessSpec, read-only by use
    subprocess_specs: Mapping[str, Any]
    spec_json: str  # the stored spec, for migrating state written by an older serializer
    # What is worked out from this version on first use and then only read (a form's validator):
    # the version never changes, so neither does it.
    derived: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def once(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """`make()`'s result, made on the first call for `key` (two threads may both make it, harmlessly)."""
        found = self.derived.get(key)
        if found is None:
            found = self.derived.setdefault(key, make())
        return found

    def form(self, name: str | None) -> dict[str, Any] | None:
        """A fresh copy of the named form's schema (the caller may change it), None if there is none."""
        text = self.forms_json.get(name or "")
        return json.loads(text) if text is not None else None

    def task_meta(self, process: str, element: str) -> dict[str, Any] | None:
        meta = self.meta["processes"].get(process, MappingProxyType({})).get("tasks", MappingProxyType({}))
        found = meta.get(element)
        return dict(found) if found is not None else None


def compile_row(id_: int, key: str, version: int, name: str, meta: dict[str, Any],
                forms: dict[str, Any], spec: dict[str, Any]) -> CompiledVersion:
    """Build the read-only compiled form of a stored version (its spec dicts are used up doing it)."""
    spec_json = json.dumps(spec)
    return CompiledVersion(
        id=id_, key=key, version=version, name=name, meta=freeze(meta),
        forms_json=MappingProxyType({k: json.dumps(v) for k, v in forms.items()}),
        spec=SERIALIZER.from_dict(spec["spec"]),
        subprocess_specs=MappingProxyType({k: SERIALIZER.from_dict(v) for k, v in spec["subprocess_specs"].items()}),
        spec_json=spec_json,
    )


def compile_version(row: ProcessVersion) -> CompiledVersion:
    """An uncached compile of a version row (tests and one-off tools)."""
    return compile_row(row.id, row.key, row.version, row.name, json.loads(json.dumps(row.meta)),
                       json.loads(json.dumps(row.forms)), json.loads(json.dumps(row.spec)))


class VersionCache:
    """Compiled versions by id, least recently used dropped past `size`; safe across threads."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[int, CompiledVersion] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # rows read from the database: what tests count

    def get(self, session: Session, version_id: int) -> CompiledVersion:
        with self._lock:
            found = self._items.get(version_id)
            if found is not None:
                self._items.move_to_end(version_id)
                return found
        compiled = _load(session, version_id)  # outside the lock: two threads may both compile, harmlessly
        with self._lock:
            self.loads += 1
            self._items[version_id] = compiled
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return compiled


def _load(session: Session, version_id: int) -> CompiledVersion:
    row = session.execute(select(ProcessVersion.id, ProcessVersion.key, ProcessVersion.version,
                                 ProcessVersion.name, ProcessVersion.meta, ProcessVersion.forms,
                                 ProcessVersion.spec).where(ProcessVersion.id == version_id)).one_or_none()
    if row is None:
        raise NotFound(f"ไม่พบรุ่นของกระบวนงาน {version_id}")
    return compile_row(row.id, row.key, row.version, row.name, row.meta, row.forms, row.spec)


def compiled(session: Session, version_id: int) -> CompiledVersion:
    """The compiled version, from the session's database cache when it has one."""
    cache = session.info.get(CACHE_KEY)
    if isinstance(cache, VersionCache):
        return cache.get(session, version_id)
    return _load(session, version_id)


def latest(session: Session, key: str) -> CompiledVersion:
    """The newest published version of a procedure: one indexed lookup of its id, then the cache."""
    version_id = session.scalar(select(ProcessVersion.id).where(ProcessVersion.key == key)
                                .order_by(ProcessVersion.version.desc()).limit(1))
    if version_id is None:
        raise NotFound(f"ไม่พบกระบวนงาน {key}")
    return compiled(session, version_id)
