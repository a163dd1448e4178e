"""Where the current action comes from: the request's address, for the record of every instance action.

The web sets it for the length of a request (web/__init__.py); the CLI, workers and timers leave it None.
Every event written meanwhile carries it: it is the default of events.address (engine/models.py), so an ORM
flush and a Core INSERT fill it alike, in the same INSERT: a completion costs no extra statement
(tests/test_unit_of_work.py), and the engine's functions need no new argument.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

MAX_ADDRESS = 64

_address: ContextVar[str | None] = ContextVar("khanton_request_address", default=None)


def begin(address: str | None) -> Token[str | None]:
    """The address of the request now running, until `end` with the token."""
    return _address.set(address[:MAX_ADDRESS] if address else None)


def end(token: Token[str | None]) -> None:
    _address.reset(token)


def current() -> str | None:
    return _address.get()

