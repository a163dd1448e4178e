"""Parse untrusted XML safely: no DTD, no entities, no network, a size limit; any encoding its
declaration names, kept and parsed as UTF-8 from then on."""

from __future__ import annotations

import codecs
import re

from lxml import etree

from .errors import Problem, TooLarge

MAX_DEFINITION_BYTES = 5 * 1024 * 1024
MAX_ATTRIBUTE_CHARS = 10_000  # a name, an id, a property's value; text that long is an attack, not a name
XINCLUDE = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")
# Compressed files are refused, never inflated: 5 MB of gzip can inflate to 5 GB (a gzip bomb).
COMPRESSED = ((b"\x1f\x8b", "gzip"), (b"PK\x03\x04", "zip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
              (b"(\xb5/\xfd", "zstd"))


class UnsafeXml(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, dtd_validation=False, load_dtd=False,
        huge_tree=False, remove_comments=False,
    )


# The encoding pseudo-attribute of an XML declaration at the very start (after a BOM, if any).
DECLARED = re.compile(r"""^(\ufeff?<\?xml\s[^>]*?\bencoding\s*=\s*)(["'])([A-Za-z][A-Za-z0-9._-]*)\2""")
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
        (b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be"))


def _too_large() -> TooLarge:
    return TooLarge(f"ไฟล์ใหญ่เกิน {MAX_DEFINITION_BYTES // (1024 * 1024)} MB")


def decode(data: bytes | str) -> str:
    """The text of an XML file, read by its BOM or its declaration's encoding (UTF-8 when neither
    says). Text that was not UTF-8 gets a declaration saying UTF-8, which is what it is stored as;
    UTF-8 text is returned exactly as it was, so its content hash does not change."""
    if isinstance(data, str):
        text, encoding = data, "utf-8"
        declared = DECLARED.match(text)
        if declared and _family(declared.group(3)) != "utf-8":
            encoding = declared.group(3)
    else:
        if len(data) > MAX_DEFINITION_BYTES:
            raise _too_large()
        text, encoding = _decode_bytes(data)
    if _family(encoding) != "utf-8":
        text = DECLARED.sub(lambda m: f"{m.group(1)}{m.group(2)}UTF-8{m.group(2)}", text.lstrip("\ufeff"),
                            count=1)
    return text


def _family(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def _decode_bytes(raw: bytes) -> tuple[str, str]:
    packed = next((name for magic, name in COMPRESSED if raw.startswith(magic)), None)
    if packed:
        raise UnsafeXml(Problem(f"ไฟล์ถูกบีบอัดแบบ {packed} ซึ่งระบบไม่แตกไฟล์ให้ — แตกไฟล์ก่อน "
                                "แล้วส่งไฟล์ .bpmn (XML) ที่ไม่บีบอัด", line=1))
    sniffed = next((encoding for bom, encoding in BOMS if raw.startswith(bom)), None)
    if sniffed:  # a BOM (or UTF-16's NUL pattern) decides over any declaration
        try:
            return raw.decode(sniffed), sniffed
        except UnicodeDecodeError as err:
            raise _undecodable(raw, err, sniffed) from None
    declared = DECLARED.match(raw[:1024].decode("latin-1"))
    name = declared.group(3) if declared else "utf-8"
    try:
        family = codecs.lookup(name).name
    except LookupError:
        raise UnsafeXml(Problem(f"ไม่รู้จักการเข้ารหัส {name!r} ที่ XML declaration ระบุ "
                                "(ใช้ UTF-8 ได้เสมอ)", line=1)) from None
    if family.startswith(("utf-16", "utf-32")):
        raise UnsafeXml(Problem(f"XML declaration ระบุการเข้ารหัส {name} แต่ไฟล์ไม่ได้เข้ารหัสเช่นนั้น "
                                "(ไม่มี BOM) — บันทึกไฟล์ใหม่เป็น UTF-8", line=1))
    try:
        return raw.decode(family), family
    except UnicodeDecodeError as err:
        raise _undecodable(raw, err, name) from None


def _undecodable(raw: bytes, err: UnicodeDecodeError, encoding: str) -> UnsafeXml:
    wide = _family(encoding).startswith(("utf-16", "utf-32"))  # their newline is not the byte \n
    line = None if wide else raw.count(b"\n", 0, err.start) + 1
    hint = "ระบุการเข้ารหัสที่ถูกต้องใน XML declaration หรือบันทึกไฟล์ใหม่เป็น UTF-8"
    return UnsafeXml(Problem(f"อ่านไฟล์ด้วยการเข้ารหัส {encoding} ไม่ได้ (ไบต์ที่ {err.start + 1}) — {hint}",
                             line=line))


def parse_xml(data: bytes | str) -> etree._Element:
    """Parse a definition; refuse a DOCTYPE, an oversize file or malformed XML, saying where."""
    return read_xml(data)[0]


def read_xml(data: bytes | str) -> tuple[etree._Element, str]:
    """Parse a definition in any encoding it declares; the root and the text to store (see decode)."""
    text = decode(data)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, possible only in text handed over as str
        raise UnsafeXml(Problem("ไฟล์มีอักขระที่ไม่สมบูรณ์ (surrogate ที่ไม่ครบคู่)")) from None
    if len(raw) > MAX_DEFINITION_BYTES:
        raise _too_large()
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise UnsafeXml(Problem("ไฟล์มี DOCTYPE หรือ ENTITY ซึ่งไม่อนุญาต", line=_line_of(raw, b"<!")))
    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as err:
        raise UnsafeXml(Problem(f"XML ไม่ถูกต้อง: {err.msg}", line=err.lineno)) from None
    if root is None:
        raise UnsafeXml(Problem("ไฟล์ว่างเปล่า"))
    _refuse_unsafe_parts(root)
    return root, text


def _refuse_unsafe_parts(root: etree._Element) -> None:
    """XInclude (never processed, but refused so that nothing downstream ever does) and attributes too
    long to be a name, an id or a setting; each said with its element and line."""
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if etree.QName(node).namespace in XINCLUDE:
            raise UnsafeXml(Problem("ไฟล์มี XInclude (การดึงไฟล์อื่นเข้ามา) ซึ่งไม่อนุญาต",
                                    element=_owner_id(node), line=node.sourceline))
        for name, value in node.attrib.items():
            if len(value) > MAX_ATTRIBUTE_CHARS:
                raise UnsafeXml(Problem(f"ค่า {etree.QName(name).localname} ยาวเกิน {MAX_ATTRIBUTE_CHARS:,} ตัวอักษร",
                                        element=node.get("id") or _owner_id(node), line=node.sourceline))


def _owner_id(node: etree._Element) -> str | None:
    for ancestor in node.iterancestors():
        ident = ancestor.get("id")
        if ident:
            return str(ident)
    return None


def _line_of(raw: bytes, needle: bytes) -> int | None:
    index = raw.upper().find(needle)
    return raw.count(b"\n", 0, index) + 1 if index >= 0 else None
