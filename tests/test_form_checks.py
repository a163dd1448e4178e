"""Named form checks: rules JSON Schema cannot express, refused with the line named."""

from __future__ import annotations

from engine.form_checks import allocations_within_ceiling, transfers_within_leftover

LINES = [{"line_id": "L1", "leftover": 100.5}, {"line_id": "L2", "leftover": 10}]


def test_transfers_within_leftover_accepts_exact_and_refuses_over_by_a_satang() -> None:
    exact = {"transfers": [{"from_line": "L1", "amount": 50.25}, {"from_line": "L1", "amount": 50.25}]}
    assert transfers_within_leftover(exact, {"lines": LINES}) == []
    over = {"transfers": [{"from_line": "L1", "amount": 50.25}, {"from_line": "L1", "amount": 50.26}]}
    errors = transfers_within_leftover(over, {"lines": LINES})
    assert [e.field for e in errors] == ["transfers.1.amount"] and "L1" in errors[0].message


def test_transfers_from_an_unknown_line_are_refused() -> None:
    errors = transfers_within_leftover({"transfers": [{"from_line": "L9", "amount": 1}]}, {"lines": LINES})
    assert errors[0].field == "transfers.0.from_line" and "L9" in errors[0].message


def test_allocations_within_ceiling() -> None:
    fits = {"budget_ceiling": 100, "school_allocations": [{"amount": 60}], "office_allocations": [{"amount": 40}]}
    assert allocations_within_ceiling(fits, {}) == []
    over = {"budget_ceiling": 100, "school_allocations": [{"amount": 60}], "office_allocations": [{"amount": 40.01}]}
    errors = allocations_within_ceiling(over, {})
    assert [e.field for e in errors] == ["office_allocations.0.amount"]
