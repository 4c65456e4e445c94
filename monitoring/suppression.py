"""Small-number suppression: every figure the monitoring shows or exports
passes through ``protect``.

Primary suppression: a count under the partnership's threshold (its rules
in force, 5 by default), other than 0, is shown as "fewer than 5".

Secondary suppression: a table shows its row and column totals, so a
single hidden count in a row could be worked out as the total less the
others. Each row and column (with its total) is a line whose cells add up
to its total; ``protect`` hides more until no line has exactly one hidden
entry, then plays the attacker (``_pinned``): knowing that a "fewer than"
count is between 1 and threshold-1 and that another hidden count is at
least the threshold, it narrows every hidden entry from the lines' sums,
line after line until nothing changes; while any "fewer than" count comes
out exact, it hides the smallest shown non-zero count of a line it sits in
(or, if there is none, that line's total) and tries again.

Periods: every table's periods are fixed, non-overlapping buckets (the
quarters of a financial year, April to March, with the year's total), and
nothing else can be asked for: no report covers "January to May" beside
"January to April", so no two periods differ by a month whose small count
could then be read off. Each bucket's suppression is decided with the
year's total in the same table.

What this does not cover: a figure in one table against a figure in
another (a ward-filtered table against the unfiltered one). Primary
suppression is the same in every table (a count under the threshold is
hidden everywhere), but a count hidden as a secondary in one table may be
shown in another. The README ("Strategy monitoring") says so.
"""

from __future__ import annotations

from dataclasses import dataclass

PRIMARY = "primary"
SECONDARY = "secondary"
_UNBOUNDED = 10**12


@dataclass(frozen=True)
class Figure:
    """One figure as it may be shown: ``count`` is None when it is hidden."""

    count: int | None
    hidden: str = ""  # "", PRIMARY or SECONDARY
    threshold: int = 5

    @property
    def text(self) -> str:
        if self.hidden == PRIMARY:
            return f"fewer than {self.threshold}"
        if self.hidden == SECONDARY:
            return "withheld"
        return f"{self.count:,}"

    @property
    def export(self) -> int | str:
        """The cell of an export: the number, or the words."""
        return self.text if self.hidden else self.count


@dataclass(frozen=True)
class Protected:
    rows: list[str]
    columns: list[str]
    cells: list[list[Figure]]
    # None when the columns are separate measures that do not add up
    # (``protected_columns``).
    row_totals: list[Figure] | None
    column_totals: list[Figure] | None
    total: Figure | None

    @property
    def lines(self) -> list[dict]:
        """Each row with its label, its cells and its total (for templates)."""
        totals = self.row_totals or [None] * len(self.rows)
        return [{"label": label, "cells": cells, "total": total}
                for label, cells, total in zip(self.rows, self.cells, totals)]


def protect(counts: list[list[int]], threshold: int, *, column_totals: bool = True) -> tuple[
        list[list[Figure]], list[Figure], list[Figure] | None, Figure | None]:
    """Suppress a table of counts (rows of equal length) with its row
    totals and, when the rows are exclusive (each thing counted in one
    row), its column totals and grand total. Returns the cells, the row
    totals, the column totals and the grand total as figures."""
    n_rows = len(counts)
    n_cols = len(counts[0]) if counts else 0
    # The table with its margins: column n_cols holds the row totals, row
    # n_rows the column totals (when shown) and the grand total.
    grid = [list(row) + [sum(row)] for row in counts]
    if column_totals:
        grid.append([sum(grid[i][j] for i in range(n_rows)) for j in range(n_cols + 1)])
    lines = _lines(n_rows, n_cols, column_totals)
    hidden: dict[tuple[int, int], str] = {
        (i, j): PRIMARY for i, row in enumerate(grid) for j, value in enumerate(row) if 0 < value < threshold
    }
    def value(e: tuple[int, int]) -> int:
        return grid[e[0]][e[1]]

    def next_to_hide(cells: list, total: tuple[int, int] | None) -> tuple[int, int] | None:
        """The smallest shown non-zero cell, else the total if shown."""
        shown = [e for e in cells if e not in hidden and value(e) > 0]
        if shown:
            return min(shown, key=value)
        return total if total is not None and total not in hidden and value(total) > 0 else None

    while True:
        alone = (next_to_hide(*ln) for ln in lines if sum(1 for e in ln[0] + [ln[1]] if e in hidden) == 1)
        choice = next((e for e in alone if e is not None), None)
        if choice is None:
            pinned = _pinned(grid, hidden, lines, threshold)
            if not pinned:
                break
            near = (next_to_hide(*ln) for ln in lines if pinned & set(ln[0] + [ln[1]]))
            choice = next((e for e in near if e is not None), None)
            if choice is None:
                # Nothing left to hide beside it: the smallest shown figure anywhere.
                choice = next_to_hide([(i, j) for i, row in enumerate(grid) for j in range(len(row))], None)
                if choice is None:
                    break
        hidden[choice] = SECONDARY

    def figure(i: int, j: int) -> Figure:
        kind = hidden.get((i, j), "")
        return Figure(None if kind else grid[i][j], kind, threshold)

    cells = [[figure(i, j) for j in range(n_cols)] for i in range(n_rows)]
    row_totals = [figure(i, n_cols) for i in range(n_rows)]
    if not column_totals:
        return cells, row_totals, None, None
    return cells, row_totals, [figure(n_rows, j) for j in range(n_cols)], figure(n_rows, n_cols)


def _lines(n_rows: int, n_cols: int, column_totals: bool) -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
    """Each additive line of the grid: its cells and the entry they sum to."""
    last_row = n_rows + (1 if column_totals else 0)
    lines = [([(i, j) for j in range(n_cols)], (i, n_cols)) for i in range(last_row)]
    if column_totals:
        lines += [([(i, j) for i in range(n_rows)], (n_rows, j)) for j in range(n_cols + 1)]
    return lines


def _pinned(grid, hidden: dict, lines, threshold: int) -> set[tuple[int, int]]:
    """The "fewer than" entries an attacker can work out exactly from the
    shown entries and the lines' sums, knowing the bounds of each hidden
    entry's kind."""
    low = {e: (1 if kind == PRIMARY else threshold) for e, kind in hidden.items()}
    high = {e: (threshold - 1 if kind == PRIMARY else _UNBOUNDED) for e, kind in hidden.items()}

    def bounds(e):
        if e in hidden:
            return low[e], high[e]
        value = grid[e[0]][e[1]]
        return value, value

    for _ in range(50):
        changed = False
        for cells, total in lines:
            t_low, t_high = bounds(total)
            c_bounds = [bounds(e) for e in cells]
            sum_low, sum_high = sum(b[0] for b in c_bounds), sum(b[1] for b in c_bounds)
            if total in hidden:
                new = (max(t_low, sum_low), min(t_high, sum_high))
                if new != (t_low, t_high):
                    low[total], high[total], changed = new[0], new[1], True
            for e, (e_low, e_high) in zip(cells, c_bounds):
                if e not in hidden:
                    continue
                new = (max(e_low, t_low - (sum_high - e_high)), min(e_high, t_high - (sum_low - e_low)))
                if new != (e_low, e_high):
                    low[e], high[e], changed = new[0], new[1], True
        if not changed:
            break
    return {e for e, kind in hidden.items() if kind == PRIMARY and low[e] >= high[e]}


def protected_table(rows: list[str], columns: list[str], counts: list[list[int]], threshold: int, *,
                    column_totals: bool = True) -> Protected:
    cells, row_totals, col_totals, total = protect(counts, threshold, column_totals=column_totals)
    return Protected(rows, columns, cells, row_totals, col_totals, total)


def protected_columns(rows: list[str], columns: list[str], counts: list[list[int]], threshold: int) -> Protected:
    """A table whose columns are separate measures of the same rows (the
    referrals, the accepted referrals, the cases opened of each group):
    each column is protected as a table of its own with its total, and no
    row total is shown (it would add unlike things)."""
    cells: list[list[Figure]] = [[] for _ in rows]
    column_totals = []
    for j in range(len(columns)):
        column, _, totals, _ = protect([[row[j]] for row in counts], threshold)
        for i, figure in enumerate(column):
            cells[i].append(figure[0])
        column_totals.append(totals[0])
    return Protected(rows, columns, cells, None, column_totals, None)
