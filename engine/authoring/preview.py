"""The form preview beside the diagram: what an officer filling the form would be told, field by field,
through the engine's one validation path (the same as a completion's)."""

from __future__ import annotations

from typing import Any

from .. import forms
from ..errors import FieldError, InvalidData


def form_errors(schema: dict[str, Any], data: dict[str, Any], unconverted: list[FieldError]) -> dict[str, str]:
    """field -> Thai message, empty when the data would be accepted."""
    try:
        forms.validate_data(schema, data, {}, unconverted)
    except InvalidData as err:
        return {str(e["field"]): str(e["message"]) for e in err.details}
    return {}
