"""A table as CSV (UTF-8 with a BOM, so Excel reads Thai) or as an .xlsx workbook, written a chunk of
rows at a time so an export of many rows never sits in memory whole.

Cells a spreadsheet would take for a formula (starting with = + - @, a tab or a carriage return) are
prefixed with an apostrophe: a title typed as `=HYPERLINK(...)` stays text (CSV/formula injection).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
Cell = str | int | None


def safe(value: Cell) -> Cell:
    """The value, with a leading apostrophe when a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(headers: list[str], chunks: Iterable[list[list[Cell]]]) -> Iterator[str]:
    """The CSV as pieces of text: the BOM and headers first, then one piece per chunk of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe(h) for h in headers])
    yield BOM + buffer.getvalue()
    for rows in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([[safe(c) for c in row] for row in rows])
        yield buffer.getvalue()


def xlsx_file(headers: list[str], chunks: Iterable[list[list[Cell]]], title: str) -> IO[bytes]:
    """The workbook in a temporary file (in memory while small), rewound for reading: openpyxl's
    write-only mode keeps no rows, it writes each as it comes."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = [WriteOnlyCell(sheet, value=safe(text)) for text in headers]
    for cell in header_cells:
        cell.font = bold
    sheet.append(header_cells)
    for rows in chunks:
        for row in rows:
            sheet.append([safe(c) for c in row])
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    book.save(out)
    out.seek(0)
    return out

