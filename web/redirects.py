"""Where a `next=` may send a person after signing in or switching language: this site only.

Browsers forgive what a naive check lets through: they drop tabs and newlines anywhere in a URL
(`/\\t/evil.example` becomes `//evil.example`), strip leading spaces and control characters, and read a
backslash as a slash (`/\\evil.example`). So a target with any of those is refused outright, and what
remains must parse as a path on this host: no scheme, no host, one leading slash.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_TARGET = 2000


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site (with its query), else None."""
    if not target or len(target) > MAX_TARGET:
        return None
    if "\\" in target or any(ch.isspace() or not ch.isprintable() for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
