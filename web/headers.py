"""Security headers on every response: pages, the API, static files and errors alike.

The policy allows scripts, styles, fonts and images from this server only: no inline script, no
inline style, no framing (clickjacking), no plugins; `nosniff` stops a browser from running an
uploaded or JSON answer as a script or page.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # bpmn-js draws its logo from a data: URI
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "same-origin",  # task and instance ids stay inside the office
}


# An answer that did not choose its own caching (static files, fonts and bpmn-js do) is about one
# person or one office's work: a shared cache (an office proxy) must not keep it and hand it to the
# next person. "no-cache" rather than "no-store", so the back button still works as it did.
PERSONAL_CACHE_CONTROL = "private, no-cache"


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = PERSONAL_CACHE_CONTROL
    return response


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
