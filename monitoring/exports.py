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
    year totals and, for exclusive rows, the totals row."""
    f = report.filters
    yield [f"{report.title}, financial year {f.year} to {f.year + 1}"]
    yield [f"Counts under {report.threshold} are shown as 'fewer than {report.threshold}'; "
           "'withheld' marks a count hidden so that a smaller one cannot be worked out; "
           "'not shown', figures too few to show safely."]
    for table in report.tables:
        p = table.protected
        yield []
        yield [table.title]
        if table.note:
            yield [table.note]
        yearly = p.row_totals is not None
        yield [table.dimension, *p.columns, *(["Year"] if yearly else [])]
        for line in p.lines:
            yield [line["label"], *(c.export for c in line["cells"]), *([line["total"].export] if yearly else [])]
        if p.column_totals is not None:
            yield ["Total", *(c.export for c in p.column_totals), *([p.total.export] if yearly else [])]
    if report.extra.get("median_decision"):
        yield []
        yield ["Median working time from receipt to decision"]
        yield ["Period", "Median"]
        for row in report.extra["median_decision"]:
            yield [row["period"], row["median"]]


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
