"""Addresses that are the same on every request of a process: the layout's stylesheets, scripts and
fixed links, and the menus' pages. Each page asked url_for for ~17 of them (Werkzeug builds each from the
URL map); they are built once per script root (the prefix a proxy may mount the app under) and kept."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, url_for

MAX_KEPT = 512  # a bound, whatever script roots requests arrive with


def fixed_url(endpoint: str, **values: Any) -> str:
    """url_for(endpoint, **values) for an address that depends on nothing in the request but its root."""
    kept: dict[tuple[Any, ...], str] = current_app.extensions["khanton_fixed_urls"]
    key = (request.script_root, endpoint, *sorted(values.items()))
    found = kept.get(key)
    if found is None:
        if len(kept) >= MAX_KEPT:
            kept.clear()
        found = kept[key] = url_for(endpoint, **values)
    return found


def init_app(app: Flask) -> None:
    app.extensions["khanton_fixed_urls"] = {}
    app.jinja_env.globals["fixed_url"] = fixed_url
