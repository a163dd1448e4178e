"""Workflow state in and out of the database: the spec is stored once per version, not per instance."""

from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn.serializer.migration.version_migration import (
    MIGRATIONS,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from .expressions import SCRIPT_ENGINE
from .models import ProcessVersion
from .spiff import SERIALIZER, SERIALIZER_VERSION

VERSION_KEY = "serializer_version"


def new_workflow(version: ProcessVersion) -> BpmnWorkflow:
    stored = copy.deepcopy(version.spec)
    spec = SERIALIZER.from_dict(stored["spec"])
    subprocess_specs = {k: SERIALIZER.from_dict(v) for k, v in stored["subprocess_specs"].items()}
    return BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)


def dump(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The live state without the spec, tagged with the serializer version that wrote it."""
    state: dict[str, Any] = SERIALIZER.to_dict(workflow)
    state.pop("spec", None)
    state.pop("subprocess_specs", None)
    state[VERSION_KEY] = SERIALIZER_VERSION
    return state


def load(version: ProcessVersion, state: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a workflow from its stored state, migrating state written by an older serializer."""
    dct = copy.deepcopy(state)  # SpiffWorkflow's restore consumes parts of the dict it is given
    dct.update(copy.deepcopy(version.spec))
    written_by = dct.pop(VERSION_KEY, SERIALIZER_VERSION)
    if written_by != SERIALIZER_VERSION and written_by in MIGRATIONS:
        MIGRATIONS[written_by](dct)
    workflow = SERIALIZER.from_dict(dct)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow
