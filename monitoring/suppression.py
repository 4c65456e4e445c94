"""Small-number suppression: every figure the monitoring shows or exports
passes through ``suppress`` (``protect`` for a single table).

Primary suppression: a count under the partnership's threshold (its rules
in force, 5 by default), other than 0, is shown as "fewer than 5".

Secondary suppression: figures are linked by lines, a line being some
figures and the one they add up to (a table's row and its total, the
quarters and the year, the wards and the borough, the referrals with a
concern and those without it and all of them). ``suppress`` hides more
until no line has exactly one hidden figure that matters, then plays the
attacker (``_pinned``): knowing that a "fewer than" figure is 0 to
threshold-1, that a "withheld" one is at least the threshold and that a
figure never shown is 0 or more, it narrows every hidden figure from the
lines' sums, line after line until nothing changes; while any count of 1
to threshold-1 comes out exact, it hides the smallest shown non-zero figure
near it (in a line with it, else one line further) or, in a sparse table
where there is none, a shown 0 (as "fewer than", which it is), and tries
again. Where that stops helping, the figures being decided are not shown
at all ("not shown": nothing can be read from it).

Figures decided elsewhere are ``fixed``: the borough's figures are
protected first, by themselves, then the figures with each concern against
them (``monitoring.figures``), so that every view is a slice of one set of
protected figures and no two views show a figure differently.

Periods: every table's periods are fixed, non-overlapping buckets (the
quarters of a financial year, April to March, with the year's total), and
nothing else can be asked for: no report covers "January to May" beside
"January to April", so no two periods differ by a month whose small count
could then be read off.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

PRIMARY = "primary"
SECONDARY = "secondary"
UNPUBLISHED = "unpublished"
_UNBOUNDED = 10**12
NEAREST_DEPTH = 3
STALLED_ROUNDS = 4
RELABEL_ROUNDS = 3


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
        if self.hidden == UNPUBLISHED:
            return "not shown"
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


Line = tuple[Sequence[int], int]
Margins = tuple[list[list[Figure]], list[Figure], list[Figure] | None, Figure | None]


def protect(counts: list[list[int]], threshold: int, *, column_totals: bool = True) -> Margins:
    """Suppress a table of counts (rows of equal length) with its row
    totals and, when the rows are exclusive (each thing counted in one
    row), its column totals and grand total. Returns the cells, the row
    totals, the column totals and the grand total as figures."""
    grid, lines = _grid(counts, column_totals)
    hidden = suppress([value for row in grid for value in row], lines, threshold)
    return _margins(grid, hidden, 0, column_totals, threshold)


def protect_stocks(stocks: list[list[list[int]]], threshold: int) -> list[Margins]:
    """Suppress tables of a stock counted at the ends of successive periods
    (the contexts known at each financial year's end; rows of equal length
    in every table), each with its row totals, column totals and grand
    total, all together. Each table is the one before it plus what was
    added in between: no table shows that, but anyone can work it out as
    the difference of two tables, so it is protected beside them (never
    shown, and never to be pinned down while under the threshold), and a
    small number added in a period cannot be read off two years side by
    side. Returns each table as ``protect`` does."""
    grids = [_grid(counts, True) for counts in stocks]
    first, _ = grids[0]
    size = len(first) * len(first[0])
    values: list[int] = []
    lines: list[Line] = []

    def add(grid: list[list[int]], table_lines: list[Line]) -> int:
        offset = len(values)
        values.extend(value for row in grid for value in row)
        lines.extend(([offset + i for i in parts], offset + total) for parts, total in table_lines)
        return offset

    offsets = [add(grid, table_lines) for grid, table_lines in grids]
    unpublished: list[int] = []
    for t in range(1, len(grids)):
        (earlier, table_lines), (later, _) = grids[t - 1], grids[t]
        added = add([[b - a for a, b in zip(row_a, row_b)] for row_a, row_b in zip(earlier, later)], table_lines)
        lines.extend(([offsets[t - 1] + k, added + k], offsets[t] + k) for k in range(size))
        unpublished.extend(range(added, added + size))
    shown = [offset + k for offset in offsets for k in range(size)]
    hidden = suppress(values, lines, threshold, unpublished=unpublished, last_resort=shown)
    return [_margins(grid, hidden, offset, True, threshold) for (grid, _), offset in zip(grids, offsets)]


def _grid(counts: list[list[int]], column_totals: bool) -> tuple[list[list[int]], list[Line]]:
    """The table with its margins (column n_cols holds the row totals, row
    n_rows, when there are column totals, those and the grand total) and
    its additive lines, by position in the grid read row by row."""
    n_rows = len(counts)
    n_cols = len(counts[0]) if counts else 0
    grid = [list(row) + [sum(row)] for row in counts]
    if column_totals:
        grid.append([sum(grid[i][j] for i in range(n_rows)) for j in range(n_cols + 1)])
    width = n_cols + 1
    lines = [([i * width + j for i, j in cells], total[0] * width + total[1])
             for cells, total in _lines(n_rows, n_cols, column_totals)]
    return grid, lines


def _margins(grid: list[list[int]], hidden: Mapping[int, str], offset: int, column_totals: bool,
             threshold: int) -> Margins:
    """A grid's figures (its entries from position ``offset`` of what was
    suppressed): the cells, the row totals, the column totals and the grand
    total."""
    width = len(grid[0])
    n_rows = len(grid) - (1 if column_totals else 0)
    n_cols = width - 1

    def figure(i: int, j: int) -> Figure:
        kind = hidden.get(offset + i * width + j, "")
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


def suppress(values: Sequence[int], lines: Sequence[Line], threshold: int, *,
             fixed: Mapping[int, str] | None = None, unpublished: Collection[int] = (),
             last_resort: Collection[int] = ()) -> dict[int, str]:
    """Decide which of a set of linked figures to hide. ``values`` are the
    counts (entries by position); each line is the positions of some
    entries and the position of the entry they add up to. ``fixed`` entries
    were decided elsewhere (their kind, "" if shown) and are taken as they
    are; ``unpublished`` entries are never shown but can be worked out (the
    rest of the borough beside a ward, the referrals without a concern
    beside those with it): when one is under the threshold it must not be
    pinned down either. Where hiding every count still leaves a small one
    pinned down (by the kinds of the hidden ones, in a sparse table), the
    ``last_resort`` entries are not shown at all ("not shown" says nothing
    of a count). Returns the kind of every hidden entry."""
    fixed = fixed or {}
    hidden: dict[int, str] = {i: kind for i, kind in fixed.items() if kind}
    hidden.update((i, UNPUBLISHED) for i in unpublished)
    choosable = [i not in fixed and i not in hidden for i in range(len(values))]
    for i, value in enumerate(values):
        if choosable[i] and 0 < value < threshold:
            hidden[i] = PRIMARY
    # What must not be pinned down: the counts of 1 to threshold-1, hidden
    # or never shown (a 0 hidden as "fewer than" may be).
    small = {i for i, kind in hidden.items() if kind in (PRIMARY, UNPUBLISHED) and 0 < values[i] < threshold}
    by_entry: list[list[int]] = [[] for _ in values]
    for n, (parts, total) in enumerate(lines):
        for i in (*parts, total):
            by_entry[i].append(n)
    hidden_in = [sum(1 for i in (*parts, total) if i in hidden) for parts, total in lines]

    def candidate(n: int) -> int | None:
        """The smallest shown non-zero part of a line, else its total."""
        parts, total = lines[n]
        shown = [i for i in parts if choosable[i] and i not in hidden and values[i] > 0]
        if shown:
            return min(shown, key=lambda i: (values[i], i))
        return total if choosable[total] and total not in hidden and values[total] > 0 else None

    def hide(i: int) -> None:
        # A 0 hidden is "fewer than" the threshold, as it is.
        hidden[i] = SECONDARY if values[i] else PRIMARY
        for n in by_entry[i]:
            hidden_in[n] += 1

    def zero(n: int) -> int | None:
        """A shown 0 of a line, for where nothing else is left to hide."""
        parts, total = lines[n]
        return next((j for j in (*parts, total) if choosable[j] and j not in hidden), None)

    def nearest(i: int) -> int | None:
        """The shown figure to hide beside ``i``: the smallest non-zero one
        in a line with it, else a 0 there, else the same one line further
        (no further: past that, hiding does little for ``i``)."""
        seen_lines: set[int] = set()
        frontier, seen = [i], {i}
        for _ in range(NEAREST_DEPTH):
            near = [n for e in frontier for n in by_entry[e] if n not in seen_lines]
            seen_lines.update(near)
            found = [c for n in near for c in [candidate(n)] if c is not None]
            if found:
                return min(found, key=lambda c: (values[c], c))
            found = [c for n in near for c in [zero(n)] if c is not None]
            if found:
                return min(found)
            frontier = [j for n in near for j in (*lines[n][0], lines[n][1]) if j not in seen]
            seen.update(frontier)
        return None

    # Rounds in a row that hid more and left as many pinned down: past
    # STALLED_ROUNDS, hiding is not helping (a sparse table).
    stalled, fewest, relabelled = 0, len(values) + 1, 0
    while True:
        # No line may hide a single figure that matters: its total less the
        # others would give it.
        queue = [n for n in range(len(lines)) if hidden_in[n] == 1]
        while queue:
            n = queue.pop()
            if hidden_in[n] != 1:
                continue
            parts, total = lines[n]
            alone = next(i for i in (*parts, total) if i in hidden)
            if hidden[alone] == UNPUBLISHED and alone not in small:
                continue
            choice = candidate(n)
            if choice is not None:
                hide(choice)
                queue.extend(by_entry[choice])
        pinned = _pinned(values, hidden, lines, by_entry, hidden_in, threshold) & small
        # Beside each, the nearest shown count; in a sparse table where
        # every count near it is small or hidden, a shown 0.
        choices = {c for i in sorted(pinned) for c in [nearest(i)] if c is not None}
        if pinned:
            stalled = stalled + 1 if len(pinned) >= fewest else 0
            fewest = min(fewest, len(pinned))
        if pinned and (stalled >= STALLED_ROUNDS or not choices) and relabelled < RELABEL_ROUNDS:
            # What pins them down now is what the hidden figures' words say
            # ("withheld" is at least the threshold): near each, say
            # nothing ("not shown").
            relabelled += 1
            near = {j for i in pinned for n in by_entry[i] for k in (*lines[n][0], lines[n][1])
                    for m in by_entry[k] for j in (*lines[m][0], lines[m][1])}
            hidden.update((j, UNPUBLISHED) for j in near if hidden.get(j) == SECONDARY and j not in fixed)
            stalled, fewest = 0, len(values) + 1
            continue
        if not choices or stalled >= STALLED_ROUNDS:
            if pinned:
                hidden.update((i, UNPUBLISHED) for i in last_resort if i not in fixed)
            return hidden
        for choice in choices:
            hide(choice)


def _pinned(values: Sequence[int], hidden: Mapping[int, str], lines: Sequence[Line], by_entry: list[list[int]],
            hidden_in: list[int], threshold: int) -> set[int]:
    """The hidden entries an attacker can work out exactly from the shown
    entries and the lines' sums, knowing the bounds of each hidden entry's
    kind ("fewer than": 0 to threshold-1, as a 0 is hidden so where
    nothing else is left to hide; "withheld": the threshold or more;
    unpublished: 0 or more), narrowing line after line until nothing
    changes."""
    # Every entry's bounds, by position: a shown one's are its value.
    low, high = list(values), list(values)
    for i, kind in hidden.items():
        low[i] = threshold if kind == SECONDARY else 0
        high[i] = threshold - 1 if kind == PRIMARY else _UNBOUNDED
    hidden_parts = [[i for i in parts if i in hidden] if hidden_in[n] else [] for n, (parts, _) in enumerate(lines)]
    queue = deque(n for n in range(len(lines)) if hidden_in[n])
    queued = [bool(hidden_in[n]) for n in range(len(lines))]
    budget = 60 * max(len(queue), 1)
    while queue and budget:
        budget -= 1
        n = queue.popleft()
        queued[n] = False
        parts, total = lines[n]
        t_low, t_high = low[total], high[total]
        sum_low, sum_high = sum(map(low.__getitem__, parts)), sum(map(high.__getitem__, parts))
        changed = []
        if total in hidden:
            new_low, new_high = max(t_low, sum_low), min(t_high, sum_high)
            if new_low != t_low or new_high != t_high:
                low[total], high[total] = t_low, t_high = new_low, new_high
                changed.append(total)
        for i in hidden_parts[n]:
            i_low, i_high = low[i], high[i]
            new_low, new_high = max(i_low, t_low - (sum_high - i_high)), min(i_high, t_high - (sum_low - i_low))
            if new_low != i_low or new_high != i_high:
                low[i], high[i] = new_low, new_high
                changed.append(i)
        for i in changed:
            for m in by_entry[i]:
                if not queued[m] and hidden_in[m]:
                    queued[m] = True
                    queue.append(m)
    return {i for i in hidden if low[i] >= high[i]}


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
