"""What a task's form holds when it is opened."""

from __future__ import annotations

from typing import Any

from engine.rounds import decision

from .. import forms_render


def start_values(view: dict[str, Any]) -> dict[str, str]:
    """The person's draft, else what the round starts from: a decision starts empty (its earlier rounds
    are history beside it, rounds/decision.py), other steps from what the instance holds."""
    if view["status"] != "ready":
        return {}
    if view.get("draft"):
        return forms_render.flatten(view["form"], view["draft"]["data"])
    return forms_render.flatten(view["form"], decision.prefill(view["form"], view["data"]))
