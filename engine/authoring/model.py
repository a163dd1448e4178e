"""The analyst's drafts, as a table (engine.models imports it with the others)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, utcnow


class ProcessDraft(Base):
    """A procedure as an analyst left it in the editor: its XML and the forms edited beside it.

    Many per procedure, never published by being saved; they may hold problems (publishing may not).
    """

    __tablename__ = "process_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    author: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")
    xml: Mapped[str] = mapped_column(Text)
    # form path ("budget-transfer/allocate.json") -> JSON Schema, for the forms edited in the editor
    forms: Mapped[dict[str, Any]] = mapped_column()
