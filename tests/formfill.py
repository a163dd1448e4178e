"""Synthesize valid data from a form's JSON Schema, as an officer filling every field would."""

from __future__ import annotations

from typing import Any


def synthesize(schema: dict[str, Any], name: str = "") -> Any:
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        return {key: synthesize(sub, key) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        count = max(schema.get("minItems", 1), 1)
        return [synthesize(schema.get("items", {"type": "string"}), name) for _ in range(count)]
    if kind == "string":
        if schema.get("format") == "date":
            return "2026-11-25"
        text = "ทดสอบ"
        return text.ljust(schema.get("minLength", 0), "ก")
    if kind == "integer":
        if name == "fiscal_year":
            return 2570
        return schema.get("minimum", 1) if schema.get("minimum", 1) > 0 else 1
    if kind == "number":
        minimum = schema.get("minimum", 0)
        return minimum if minimum > 0 else 1000
    if kind == "boolean":
        return True
    return None
