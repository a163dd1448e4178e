"""Parse definitions with SpiffWorkflow in a child process, so a parser that never returns can be killed.

SpiffWorkflow's parser loops forever on some malformed inputs (a sub-process data-object reference
that points nowhere); the parent gives the child a time limit. Input on stdin, JSON:
{"main": [keys], "files": {key: xml}}; output on stdout: {key: {"spec":..., "subprocess_specs":...}
or {"error": {"message", "element", "line"}}}.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

from .errors import Problem

log = logging.getLogger("khanton.spec_worker")
PARSE_TIMEOUT_SECONDS = 30
PARSE_MEMORY_BYTES = 1024 * 1024 * 1024  # address space of the child: a runaway parse fails, the server stays


def _limit_memory() -> None:
    """Run in the child before it starts (POSIX); where `resource` is missing the time limit still holds."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return
    resource.setrlimit(resource.RLIMIT_AS, (PARSE_MEMORY_BYTES, PARSE_MEMORY_BYTES))


def _parse_all(main: list[str], files: dict[str, str]) -> dict[str, Any]:
    from lxml import etree
    from SpiffWorkflow.bpmn.parser.ValidationException import (
        ValidationException,
    )

    from .authoring import translate
    from .spiff import SERIALIZER, new_parser
    from .xmlsafe import parse_xml

    results: dict[str, Any] = {}
    for key in main:
        parser = new_parser()
        try:
            for name, xml in files.items():
                parser.add_bpmn_xml(etree.ElementTree(parse_xml(xml)), filename=f"{name}.bpmn")
            spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key)
            results[key] = {
                "spec": SERIALIZER.to_dict(spec),
                "subprocess_specs": {k: SERIALIZER.to_dict(v) for k, v in subprocess_specs.items()},
            }
        except ValidationException as err:  # in Thai, with the element's line (engine.authoring.translate)
            named = files.get(str(getattr(err, "file_name", "")).removesuffix(".bpmn"), files.get(key))
            results[key] = {"error": translate.from_exception(err, named).as_dict()}
        except Exception as err:  # noqa: BLE001 - any parser failure is reported, never raised
            results[key] = {"error": translate.from_exception(err, files.get(key)).as_dict()}
    return results


def parse_in_child(main: list[str], files: dict[str, str],
                   timeout: float = PARSE_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Parse `main` keys (with all `files` available for call activities) in a bounded child."""
    payload = json.dumps({"main": main, "files": files})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "engine.spec_worker"], input=payload, capture_output=True,
            text=True, timeout=timeout, check=False,
            preexec_fn=_limit_memory if sys.platform != "win32" else None,
        )
    except subprocess.TimeoutExpired:
        problem = Problem(f"SpiffWorkflow อ่านนิยามไม่เสร็จภายใน {timeout:g} วินาที")
        return {key: {"error": problem.as_dict()} for key in main}
    if done.stderr.strip():  # what the child logged (an untranslated message), for operators
        log.warning("spec worker: %s", done.stderr.strip()[-4000:])
    if done.returncode != 0:
        problem = Problem("ตัวอ่านแผนภาพหยุดทำงานก่อนอ่านเสร็จ (อาจใช้หน่วยความจำเกินกำหนด) "
                          "— รายละเอียดถูกบันทึกไว้ให้ผู้ดูแลระบบ")
        return {key: {"error": problem.as_dict()} for key in main}
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s: %(message)s")
    request = json.loads(sys.stdin.read())
    json.dump(_parse_all(request["main"], request["files"]), sys.stdout)


if __name__ == "__main__":
    main()
