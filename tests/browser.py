"""Debian's chromium driven by Playwright, for tests and scripts (Playwright cannot download one here)."""

from __future__ import annotations

import shutil

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_missing() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not shutil.which(CHROMIUM):
        return f"{CHROMIUM} is not installed (make test installs Debian's chromium)"
    return None
