"""Every file in processes/ and forms/ loads without a problem, and the docs table matches them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

from engine.service import Khanton
from tests.conftest import ROOT

PROCESSES = sorted((ROOT / "processes").glob("*.bpmn"))


def test_every_definition_and_form_passes_the_checks(tmp_path: Path) -> None:
    khanton = Khanton(f"sqlite:///{tmp_path / 'check.db'}", ROOT / "processes", ROOT / "forms")
    problems = [f"{p.name}: {problem}" for p, d in zip(PROCESSES, khanton.check_files(PROCESSES), strict=True)
                for problem in d.problems]
    assert problems == []


def test_each_process_id_is_its_file_name() -> None:
    from lxml import etree

    for path in PROCESSES:
        ids = etree.parse(str(path)).xpath(
            "//bpmn:process/@id", namespaces={"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"})
        assert ids == [path.stem], path.name


def test_every_form_is_valid_json_schema_with_thai_titles() -> None:
    for path in sorted((ROOT / "forms").rglob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema.get("title"), path
        for name, prop in schema.get("properties", {}).items():
            assert prop.get("title"), f"{path.relative_to(ROOT)}: {name} has no title"


def test_every_procedure_has_a_scenario_and_a_diagram() -> None:
    for path in PROCESSES:
        if path.stem == "monitor-and-report":
            continue  # reached through the procedures that call it
        assert (ROOT / "tests" / "scenarios" / f"{path.stem}.json").is_file(), path.stem
        assert (ROOT / "docs" / "diagrams" / f"{path.stem}.png").is_file(), path.stem


def test_the_procedure_table_in_docs_is_generated_from_the_files() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "procedure_table.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
