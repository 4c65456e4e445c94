"""CSV for spreadsheets, safe to open.

A spreadsheet program reads a cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula, and one that starts with a tab or a carriage return
may be too once the program trims it (OWASP, "CSV Injection"); a formula
can fetch addresses or run commands when the file is opened. Every cell
that starts with one of those (or their full-width forms, which some
spreadsheet programs fold into them) is written with a leading ``'``, so
the program shows it as text, and every cell is quoted.

(defusedcsv, the package for this, leaves cells that start with a tab or
a carriage return as they are, and numbers like ``-1``; the lines below do
all of it and write one row at a time, for streaming responses.)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

FORMULA_LEADS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def defuse(value) -> str:
    """The cell as text a spreadsheet shows as text: with a ``'`` before a
    leading formula character; None is an empty cell."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_LEADS else text


class _Line:
    """The csv module writes to a file; this hands the line back instead."""

    def write(self, line: str) -> str:
        return line


def csv_lines(rows: Iterable[Iterable]) -> Iterator[str]:
    """Each row as one CSV line (every cell defused and quoted), as the
    rows come: nothing is held but the row being written."""
    writer = csv.writer(_Line(), quoting=csv.QUOTE_ALL)
    for row in rows:
        yield writer.writerow([defuse(cell) for cell in row])
