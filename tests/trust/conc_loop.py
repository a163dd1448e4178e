"""The procedure the concurrency tests work on: the officer's round, then a one-second wait, then the
next round, until the data says stop (never, here: every start sends stop = False). `label` goes into
the names, so that each version published differs from the last (tests/trust/data/conc-loop.bpmn)."""

from __future__ import annotations

from pathlib import Path

KEY = "conc-loop"
START = {"stop": False}
BPMN = (Path(__file__).parent / "data" / "conc-loop.bpmn").read_text(encoding="utf-8")  # .format(label=...)
