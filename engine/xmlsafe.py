"""Parse untrusted XML safely: no DTD, no entities, no network, a size limit."""

from __future__ import annotations

from lxml import etree

from .errors import Problem, TooLarge

MAX_DEFINITION_BYTES = 5 * 1024 * 1024


class UnsafeXml(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, dtd_validation=False, load_dtd=False,
        huge_tree=False, remove_comments=False,
    )


def parse_xml(data: bytes | str) -> etree._Element:
    """Parse a definition; refuse a DOCTYPE, an oversize file or malformed XML, saying where."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_DEFINITION_BYTES:
        raise TooLarge(f"ไฟล์ใหญ่เกิน {MAX_DEFINITION_BYTES // (1024 * 1024)} MB")
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise UnsafeXml(Problem("ไฟล์มี DOCTYPE หรือ ENTITY ซึ่งไม่อนุญาต", line=_line_of(raw, b"<!")))
    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as err:
        raise UnsafeXml(Problem(f"XML ไม่ถูกต้อง: {err.msg}", line=err.lineno)) from None
    if root is None:
        raise UnsafeXml(Problem("ไฟล์ว่างเปล่า"))
    return root


def _line_of(raw: bytes, needle: bytes) -> int | None:
    index = raw.upper().find(needle)
    return raw.count(b"\n", 0, index) + 1 if index >= 0 else None
