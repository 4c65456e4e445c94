"""The monitoring's reports as rows for a spreadsheet: CSV (through
``lib.spreadsheets``, which defuses formulas) and OpenDocument (odfpy,
with every cell typed: numbers as numbers, words as text, never a
formula). The rows are the suppressed figures the page shows, and
nothing else: no key, no record, no name."""

from __future__ import annotations

import io
from collections.abc import Iterator

from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

from monitoring.figures import Report


def report_rows(report: Report) -> Iterator[list]:
    """Each table of the report: its title, a header, its rows with their
    totals and, for exclusive rows, the totals row; then the figures worked
    out from them (a median, a share), each a row a period."""
    f = report.filters
    yield [f"{report.title}, financial year {f.year} to {f.year + 1}"]
    yield [f"Counts under {report.threshold} are shown as 'fewer than {report.threshold}'; "
           "'withheld' marks a count hidden so that a smaller one cannot be worked out; "
           "'not shown', figures too few to show safely."]
    for note in report.notes:
        yield [note]
    for table in report.tables:
        p = table.protected
        yield []
        yield [table.title]
        if table.note:
            yield [table.note]
        totals = p.row_totals is not None
        yield [table.dimension, *p.columns, *([table.total_column] if totals else [])]
        for line in p.lines:
            yield [line["label"], *(c.export for c in line["cells"]), *([line["total"].export] if totals else [])]
        if p.column_totals is not None:
            yield ["Total", *(c.export for c in p.column_totals), *([p.total.export] if totals else [])]
    yield from _by_period(report.extra.get("median_decision"), "Median working time from receipt to decision",
                          "Median", "median")
    yield from _by_period(report.extra.get("on_time"), "Share of panel actions completed on time",
                          "Completed on time", "share")


def _by_period(rows: list[dict] | None, title: str, heading: str, key: str) -> Iterator[list]:
    if rows:
        yield []
        yield [title]
        yield ["Period", heading]
        for row in rows:
            yield [row["period"], row[key]]


def ods_bytes(report: Report) -> bytes:
    document = OpenDocumentSpreadsheet()
    sheet = Table(name=report.title[:31])
    for row in report_rows(report):
        table_row = TableRow()
        for value in row:
            if isinstance(value, int) and not isinstance(value, bool):
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            table_row.addElement(cell)
        sheet.addElement(table_row)
    document.spreadsheet.addElement(sheet)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()
