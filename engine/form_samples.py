"""Plausible valid data for a form's JSON Schema: what an officer filling every field might enter.

The demo data (`khanton demo`) and the procedure tests both fill forms with it, so a form whose
schema no plausible answer satisfies shows up in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def sample(schema: Mapping[str, Any], name: str = "", *, text: str = "ทดสอบ", day: str = "2026-11-20",
           examples: Mapping[str, Any] | None = None) -> Any:
    """Data for `schema` (the field called `name`); `examples` gives whole values by field name."""
    if examples and name in examples:
        return examples[name]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":  # figures the server computes (x-computed) are left for it to fill in
        return {key: sample(sub, key, text=text, day=day, examples=examples)
                for key, sub in schema.get("properties", {}).items() if "x-computed" not in sub}
    if kind == "array":
        count = max(schema.get("minItems", 1), 1)
        item = schema.get("items", {"type": "string"})
        return [sample(item, name, text=text, day=day, examples=examples) for _ in range(count)]
    if kind == "string":
        if schema.get("format") == "date":
            return day
        return text[:schema.get("maxLength", len(text))].ljust(schema.get("minLength", 0), "ก")
    if kind == "integer":
        if name == "fiscal_year":
            return 2570
        minimum = schema.get("minimum", 1)
        return minimum if minimum > 0 else 1
    if kind == "number":
        minimum = schema.get("minimum", 0)
        return minimum if minimum > 0 else 1000
    if kind == "boolean":
        return True
    return None
