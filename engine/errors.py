"""Engine exceptions. Each carries what a person needs to fix the problem: where and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Problem:
    """One problem found in a definition: the element, the line, and what is wrong."""

    message: str
    element: str | None = None
    line: int | None = None
    file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"element": self.element, "line": self.line, "message": self.message}

    def describe(self, with_file: bool = True) -> str:
        """One line: "file, line 12, element board_gateway: what is wrong"."""
        parts = (
            self.file if with_file and self.file else "",
            f"line {self.line}" if self.line else "",
            f"element {self.element}" if self.element else "",
        )
        where = ", ".join(part for part in parts if part)
        return f"{where}: {self.message}" if where else self.message

    def __str__(self) -> str:
        return self.describe()


class KhantonError(Exception):
    """Base of every engine error; `code` is the API's error code."""

    code = "bad_request"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(KhantonError):
    code = "not_found"


class Forbidden(KhantonError):
    code = "forbidden"


class Conflict(KhantonError):
    """A stale or duplicate write: the task is already done, or the instance moved on."""

    code = "conflict"


class Held(Conflict):
    """Someone else holds (has claimed) the task: claim, release or hand it over only through them."""

    code = "held"


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class InvalidData(KhantonError):
    """Submitted data does not fit the form; `details` lists every bad field."""

    code = "invalid_data"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(
            "ข้อมูลไม่ถูกต้อง " + str(len(errors)) + " รายการ",
            [e.as_dict() for e in errors],
        )
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> InvalidData:
        """One bad field: its own message says it all, on a page as in the API."""
        err = cls([FieldError(field, message)])
        err.message = message
        return err


class InvalidDefinition(KhantonError):
    """A definition was refused; `problems` lists each one with element and line."""

    code = "invalid_definition"

    def __init__(self, problems: list[Problem], key: str | None = None) -> None:
        head = f"นิยามกระบวนงาน {key} ไม่ผ่านการตรวจสอบ" if key else "นิยามกระบวนงานไม่ผ่านการตรวจสอบ"
        super().__init__(head, [p.as_dict() for p in problems])
        self.problems = problems
        self.key = key


class TooLarge(KhantonError):
    code = "too_large"


class WorkflowFailure(KhantonError):
    """The engine could not run a step (a script or condition failed at run time)."""

    code = "workflow_error"

    def __init__(self, message: str, element: str | None = None) -> None:
        super().__init__(message, {"element": element})
        self.element = element
