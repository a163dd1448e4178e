"""The engine's front door for the CLI, the web app and tests: each call is one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import accounts, definitions, instances, migrate, queries
from .accounts import Actor
from .db import Database
from .definitions import Definition
from .errors import Forbidden, InvalidDefinition

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Published:
    key: str
    version: int
    created: bool


class Khanton:
    def __init__(self, database_url: str | None = None, processes_dir: Path | None = None,
                 forms_dir: Path | None = None) -> None:
        self.db = Database(database_url)
        self.processes_dir = processes_dir or PROJECT_ROOT / "processes"
        self.forms_dir = forms_dir or PROJECT_ROOT / "forms"

    # --- set-up -------------------------------------------------------------------------------
    def upgrade_schema(self) -> None:
        migrate.upgrade(self.db)

    def check_files(self, paths: list[Path]) -> list[Definition]:
        """Check files (they may call each other and published processes) without publishing."""
        sources: list[tuple[str, str | bytes]] = [(p.name, p.read_bytes()) for p in paths]
        expected = {p.name: p.stem for p in paths}
        with self.db.transaction(read_only=True) as session:
            return definitions.check_batch(sources, self.forms_dir, session, expected)

    def deploy_files(self, paths: list[Path], actor: str) -> list[Published]:
        """Publish files as new versions; all or nothing."""
        sources: list[tuple[str, str | bytes]] = [(p.name, p.read_bytes()) for p in paths]
        return self._publish(sources, {p.name: p.stem for p in paths}, actor)

    def load_directory(self, actor: str = "system") -> list[Published]:
        return self.deploy_files(sorted(self.processes_dir.glob("*.bpmn")), actor)

    def publish_xml(self, key: str, xml: bytes, actor: Actor) -> Published:
        if "analyst" not in actor.roles:
            raise Forbidden("เฉพาะนักวิเคราะห์กระบวนงาน (analyst) เท่านั้นที่เผยแพร่รุ่นใหม่ได้")
        return self._publish([(f"{key}.bpmn", xml)], {f"{key}.bpmn": key}, actor.username)[0]

    def _publish(self, sources: list[tuple[str, str | bytes]], expected: dict[str, str],
                 actor: str) -> list[Published]:
        with self.db.transaction() as session:
            checked = definitions.check_batch(sources, self.forms_dir, session, expected)
            problems = [p for d in checked for p in d.problems]
            if problems:
                keys = ", ".join(sorted({d.key for d in checked if d.problems and d.key}))
                raise InvalidDefinition(problems, keys or None)
            published = []
            for definition in definitions.dependency_order(checked):
                version, created = definitions.publish(session, definition, actor)
                published.append(Published(version.key, version.version, created))
            return published

    # --- people -------------------------------------------------------------------------------
    def add_user(self, username: str, roles: list[str], lanes: list[str], password: str | None = None,
                 display_name: str = "") -> None:
        with self.db.transaction() as session:
            accounts.add_user(session, username, roles, lanes, password, display_name)

    def issue_token(self, username: str) -> str:
        with self.db.transaction() as session:
            return accounts.issue_token(session, username)

    def actor_for_token(self, token: str) -> Actor | None:
        with self.db.transaction(read_only=True) as session:
            user = accounts.user_for_token(session, token)
            return Actor.of(user) if user else None

    def actor(self, username: str) -> Actor:
        with self.db.transaction(read_only=True) as session:
            return Actor.of(accounts.find_user(session, username))

    # --- work -----------------------------------------------------------------------------------
    def start(self, key: str, data: dict[str, Any], actor: Actor) -> dict[str, Any]:
        with self.db.transaction() as session:
            instance = instances.start(session, key, data, actor)
            return queries.instance_view(session, instance)

    def complete(self, task_id: str, data: Any, actor: Actor) -> dict[str, Any]:
        with self.db.transaction() as session:
            instance = instances.complete(session, task_id, data, actor)
            return queries.instance_view(session, instance)

    def ready_tasks(self, actor: Actor, **filters: Any) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return queries.ready_tasks(session, actor, **filters)

    def task(self, task_id: str, actor: Actor) -> dict[str, Any]:
        with self.db.transaction(read_only=True) as session:
            return queries.task_view(session, actor, task_id)

    def instance(self, instance_id: str, actor: Actor) -> dict[str, Any]:
        with self.db.transaction(read_only=True) as session:
            return queries.instance_view(session, queries.visible_instance(session, actor, instance_id))

    def instances(self, actor: Actor, **filters: Any) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return queries.instances(session, actor, **filters)

    def timeline(self, instance_id: str, actor: Actor) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return queries.timeline(session, queries.visible_instance(session, actor, instance_id))

    def processes(self) -> list[dict[str, Any]]:
        with self.db.transaction(read_only=True) as session:
            return queries.processes(session)

    def process_xml(self, key: str, version: int | None = None) -> str:
        with self.db.transaction(read_only=True) as session:
            return queries.process_version(session, key, version).bpmn_xml
