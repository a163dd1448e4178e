"""Every procedure survives a round trip through the bpmn-js modeler (what the analyst's editor runs).

The conventions that carry meaning outside plain BPMN — forms, the rejected end status, multi-instance
references — must still be there after bpmn-js imports and saves a file, and the saved file must pass
the same checks with the same meaning.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import definitions
from tests.conftest import ROOT

PROCESSES = sorted((ROOT / "processes").glob("*.bpmn"))
MODELER = ROOT / "node_modules" / "bpmn-js" / "dist" / "bpmn-modeler.production.min.js"


@pytest.fixture(scope="module")
def modeler_page(chromium: Any) -> Iterator[object]:
    if not MODELER.is_file():
        pytest.skip(f"{MODELER} missing (run make setup)")
    page = chromium.new_page()
    page.set_content('<div id="canvas" style="width:1200px;height:800px"></div>')
    page.add_script_tag(path=str(MODELER))
    yield page
    page.context.close()


def _round_trip(page: object, xml: str) -> dict[str, object]:
    result: dict[str, object] = page.evaluate(  # type: ignore[attr-defined]
        """async (xml) => {
            document.querySelector('#canvas').innerHTML = '';
            const modeler = new BpmnJS({ container: '#canvas' });
            const { warnings } = await modeler.importXML(xml);
            const { xml: saved } = await modeler.saveXML({ format: true });
            return { saved, warnings: warnings.map(w => w.message) };
        }""",
        xml,
    )
    return result


@pytest.mark.parametrize("path", PROCESSES, ids=[p.stem for p in PROCESSES])
def test_definition_survives_the_modeler(modeler_page: object, path: Path, tmp_path: Path) -> None:
    original = path.read_text(encoding="utf-8")
    result = _round_trip(modeler_page, original)
    assert result["warnings"] == []
    saved = str(result["saved"])
    before = definitions.inspect(original, ROOT / "forms", path.stem)
    after = definitions.inspect(saved, ROOT / "forms", path.stem)
    assert after.problems == []
    assert after.meta == before.meta or _same_but_lines(after.meta, before.meta)
    library = {p.stem: p.read_text(encoding="utf-8") for p in PROCESSES}
    parsed = definitions.check_batch([(path.name, saved)], ROOT / "forms", None, {path.name: path.stem}, library)
    assert parsed[0].problems == [] and parsed[0].spec is not None
    original_spec = definitions.check_batch([(path.name, original)], ROOT / "forms", None,
                                            {path.name: path.stem}, library)[0].spec
    assert original_spec is not None
    assert sorted(parsed[0].spec["spec"]["task_specs"]) == sorted(original_spec["spec"]["task_specs"])


def _same_but_lines(a: dict[str, object], b: dict[str, object]) -> bool:
    """Meta equal once source line numbers (which formatting may shift) are ignored."""
    def strip(meta: dict[str, object]) -> object:
        tasks = meta.get("tasks", {})
        assert isinstance(tasks, dict)
        return {**meta, "tasks": {k: {**v, "line": None} for k, v in tasks.items()}}

    return strip(a) == strip(b)
