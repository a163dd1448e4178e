"""Workflow state in and out of the database: the spec is stored once per version, not per instance,
and built once per process (runtime.versions); loading an instance restores only its task tree."""

from __future__ import annotations

import copy
import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import (
    MIGRATIONS,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from .expressions import SCRIPT_ENGINE
from .models import ProcessVersion
from .runtime.versions import CompiledVersion, compile_version
from .spiff import SERIALIZER, SERIALIZER_VERSION

VERSION_KEY = "serializer_version"

# SpiffWorkflow's own converter of a whole workflow: used here in parts, so that a stored state is
# restored onto the version's already built spec instead of rebuilding the spec from its dict each time.
_REGISTRY = SERIALIZER.registry
_CONVERTER: Any = _REGISTRY.convert_from_dict[_REGISTRY.typenames[BpmnWorkflow]].args[0].__self__


def _compiled(version: CompiledVersion | ProcessVersion) -> CompiledVersion:
    return version if isinstance(version, CompiledVersion) else compile_version(version)


def new_workflow(version: CompiledVersion | ProcessVersion) -> BpmnWorkflow:
    version = _compiled(version)
    return BpmnWorkflow(version.spec, dict(version.subprocess_specs), script_engine=SCRIPT_ENGINE)


def dump(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The live state without the spec, tagged with the serializer version that wrote it (what
    SpiffWorkflow's to_dict writes, less the spec it would convert and we would drop)."""
    state: dict[str, Any] = {"typename": _REGISTRY.typenames[BpmnWorkflow]}
    state.update(WorkflowConverter.to_dict(_CONVERTER, workflow))  # the part common to sub-workflows
    state["subprocesses"] = _CONVERTER.mapping_to_dict(workflow.subprocesses)
    state["bpmn_events"] = _REGISTRY.convert(workflow.bpmn_events)
    state[VERSION_KEY] = SERIALIZER_VERSION
    return state


def load(version: CompiledVersion | ProcessVersion, state: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a workflow from its stored state, migrating state written by an older serializer."""
    version = _compiled(version)
    if state.get(VERSION_KEY, SERIALIZER_VERSION) != SERIALIZER_VERSION:
        return _load_migrated(version, state)
    # SpiffWorkflow's restore pops keys from the dicts it is given: copy those, the rest it only reads.
    dct = {**state, "subprocesses": dict(state.get("subprocesses", {})),
           "correlations": copy.deepcopy(state.get("correlations", {}))}
    workflow = BpmnWorkflow(version.spec, dict(version.subprocess_specs), deserializing=True)
    workflow.tasks = _CONVERTER.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    _CONVERTER.set_default_attributes(workflow, dct)
    _CONVERTER.subprocesses_from_dict(dct["subprocesses"], workflow)
    workflow.bpmn_events = _REGISTRY.restore(copy.deepcopy(dct.get("bpmn_events", [])))
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


def _load_migrated(version: CompiledVersion, state: dict[str, Any]) -> BpmnWorkflow:
    """State from an older serializer: SpiffWorkflow's migration runs on the whole dict, spec included."""
    dct = copy.deepcopy(state)
    dct.update(json.loads(version.spec_json))
    written_by = dct.pop(VERSION_KEY)
    if written_by in MIGRATIONS:
        MIGRATIONS[written_by](dct)
    workflow = SERIALIZER.from_dict(dct)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow
