"""The form editor's live preview: the schema drawn by the renderer officers see (web/forms_render.py),
checked as publishing checks it (engine.forms.check_schema: JSON Schema, named checks, computed and
signed fields), and, given values typed into the preview, the data checked as a task's would be."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _

from engine import forms
from engine.authoring.preview import form_errors

from .. import forms_render

MAX_VALUES = 2000


def render(path: Any, schema: Any, values: Any) -> dict[str, Any]:
    """{"html": the fields, "problems": what is wrong with the form, "errors": field -> message}."""
    path = path if isinstance(path, str) and forms.FORM_PATH.match(path) else "draft/form.json"
    try:
        forms.check_schema(schema, path)
    except ValueError as err:
        return {"html": "", "problems": [str(err)], "errors": {}}
    except RecursionError:
        return {"html": "", "problems": [_("แบบฟอร์มซ้อนกันลึกเกินไป")], "errors": {}}
    typed: dict[str, str] = {}
    errors: dict[str, str] = {}
    if isinstance(values, dict) and len(values) <= MAX_VALUES:
        typed = {str(k)[:200]: v[:2000] for k, v in values.items() if isinstance(v, str)}
        data, unconverted, typed = forms_render.parse(schema, typed)
        errors = form_errors(schema, data, unconverted)
    fields = forms_render.build_fields(schema, typed, errors)
    forms_render.tidy_errors(fields)
    html = render_template("authoring/_preview.html", fields=fields, title=schema.get("title", ""))
    return {"html": html, "problems": [], "errors": errors}
