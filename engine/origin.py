"""Where the current action comes from: the request's address, for the record of every instance action.

The web sets it for the length of a request (web/__init__.py); the CLI, workers and timers leave it None.
Every `Event` a session writes meanwhile carries it (events.address), in the same INSERT: a completion
costs no extra statement (tests/test_unit_of_work.py), and the engine's functions need no new argument.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from .models import Event

MAX_ADDRESS = 64

_address: ContextVar[str | None] = ContextVar("khanton_request_address", default=None)


def begin(address: str | None) -> Token[str | None]:
    """The address of the request now running, until `end` with the token."""
    return _address.set(address[:MAX_ADDRESS] if address else None)


def end(token: Token[str | None]) -> None:
    _address.reset(token)


def current() -> str | None:
    return _address.get()


def stamp_events(sessions: sessionmaker[Session]) -> None:
    """Fill the address of each new event, before it is flushed, from the request running."""

    @event.listens_for(sessions, "before_flush")
    def _stamp(session: Session, _context: Any, _instances: Any) -> None:
        address = _address.get()
        if address is None:
            return
        for row in session.new:
            if isinstance(row, Event) and row.address is None:
                row.address = address
