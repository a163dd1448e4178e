"""The one place that configures SpiffWorkflow: parser, serializer, script engine."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .time.bpmn import override_parsers

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
SERIALIZER_VERSION: str = SERIALIZER.VERSION


class KhantonParser(SpiffBpmnParser):  # type: ignore[misc]
    """SpiffWorkflow's parser, reading timer events as ISO 8601 literals (engine.time.bpmn)."""

    OVERRIDE_PARSER_CLASSES = override_parsers(SpiffBpmnParser.OVERRIDE_PARSER_CLASSES)


def new_parser() -> Any:
    return KhantonParser()
