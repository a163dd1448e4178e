"""The client's address, for sign-in throttling and the audit trail.

Behind the office's reverse proxy every request comes from the proxy: set TRUSTED_PROXIES
(KHANTON_TRUSTED_PROXIES=1) to the number of proxies in front, and the address is read from
X-Forwarded-For as they set it (werkzeug's ProxyFix). Without it the header is ignored: a client could
write any address there.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix


def address() -> str | None:
    return request.remote_addr or None


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
