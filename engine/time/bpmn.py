"""The parser reads timer events as BPMN writes them: `P15D`, not the Python string `'P15D'`.

A literal is checked (iso.py) and handed to SpiffWorkflow as a quoted string with the Bangkok offset
made explicit, so a date without an offset means Bangkok whatever the server's own zone; any other
text stays an expression, evaluated by the restricted evaluator like every other expression.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)

from . import iso


def expression_for(kind: str, text: str) -> str:
    """What SpiffWorkflow evaluates for a timer's text (kind: timeDate, timeDuration, timeCycle)."""
    text = text.strip()
    if not iso.is_literal(text):
        return text
    if kind == "timeDate":
        return repr(iso.moment(text).isoformat())
    if kind == "timeCycle" and iso.repeat(text) is not None:
        return repr(text)  # R/P7D: SpiffWorkflow counts from when the event begins to wait
    if kind == "timeCycle":
        iso.cycle(text)  # checked; SpiffWorkflow reads the parts itself
        repetitions, first, step = text.split("/")
        return repr(f"{repetitions}/{iso.moment(first).isoformat()}/{step}")
    iso.duration(text)
    return repr(text)


_KINDS = {TimeDateEventDefinition: "timeDate", DurationTimerEventDefinition: "timeDuration",
          CycleTimerEventDefinition: "timeCycle"}


class _LiteralTimers:
    """Mixed into SpiffWorkflow's event parsers: the timer's literal becomes a quoted expression."""

    node: Any
    filename: Any

    def parse_timer_event(self, event: Any) -> Any:
        definition = super().parse_timer_event(event)  # type: ignore[misc]
        kind = _KINDS.get(type(definition))
        if kind and definition.expression:
            try:
                definition.expression = expression_for(kind, definition.expression)
            except iso.IsoError as err:
                raise ValidationException(str(err), node=self.node, file_name=self.filename) from err
        return definition


class StartEventParser(_LiteralTimers, SpiffStartEventParser):  # type: ignore[misc]
    pass


class BoundaryEventParser(_LiteralTimers, SpiffBoundaryEventParser):  # type: ignore[misc]
    pass


class IntermediateCatchEventParser(_LiteralTimers, SpiffIntermediateCatchEventParser):  # type: ignore[misc]
    pass


def override_parsers(classes: dict[str, tuple[Any, Any]]) -> dict[str, tuple[Any, Any]]:
    """SpiffBpmnParser's OVERRIDE_PARSER_CLASSES with the three timer-catching events replaced."""
    replaced = dict(classes)
    for tag, parser in (("startEvent", StartEventParser), ("boundaryEvent", BoundaryEventParser),
                        ("intermediateCatchEvent", IntermediateCatchEventParser)):
        replaced[full_tag(tag)] = (parser, classes[full_tag(tag)][1])
    return replaced
