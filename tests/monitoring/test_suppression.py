"""Small-number suppression cannot be undone: not by differencing a table's
totals, nor by differencing periods.

The attacker here is written apart from ``monitoring.suppression``: it
knows every shown figure, that "fewer than N" is 0 to N-1 (a 0 is hidden so
where nothing else is left to hide) and "withheld" is N or more, and that each row and column adds up to its total; it narrows
every hidden figure line by line until nothing changes, and wins if a
"fewer than" figure comes out exact."""

from __future__ import annotations

import itertools
import random

import pytest

from monitoring.suppression import PRIMARY, SECONDARY, UNPUBLISHED, protect, protect_stocks

T = 5


def attack(counts, cells, row_totals, column_totals, total, threshold=T):
    """What the attacker can pin down: {(i, j): value} of the primary cells
    (j == len(row) for a row total, i == len(rows) for a column total)."""
    n_rows, n_cols = len(cells), len(cells[0])
    grid = [list(row) + [rt] for row, rt in zip(cells, row_totals)]
    if column_totals is not None:
        grid.append(list(column_totals) + [total])
    bounds = {}
    for i, row in enumerate(grid):
        for j, fig in enumerate(row):
            if fig.hidden == PRIMARY:
                bounds[(i, j)] = [0, threshold - 1]
            elif fig.hidden == SECONDARY:
                bounds[(i, j)] = [threshold, 10**9]
            else:
                bounds[(i, j)] = [fig.count, fig.count]
    narrow(bounds, grid_lines(n_rows, n_cols, column_totals is not None))
    return {k: v[0] for k, v in bounds.items()
            if v[0] == v[1] and grid[k[0]][k[1]].hidden == PRIMARY and v[0] > 0}


def grid_lines(n_rows, n_cols, column_totals=True, key=lambda i, j: (i, j)):
    """A table's lines, each its parts and last the whole they add up to."""
    lines = [[key(i, j) for j in range(n_cols + 1)] for i in range(n_rows + (1 if column_totals else 0))]
    if column_totals:
        lines += [[key(i, j) for i in range(n_rows + 1)] for j in range(n_cols + 1)]
    return lines


def narrow(bounds, lines):
    """Narrow every entry's [low, high] from the lines, over and over,
    until nothing changes."""
    for _ in range(200):
        before = {k: tuple(v) for k, v in bounds.items()}
        for line in lines:
            *parts, whole = line
            lo_sum = sum(bounds[p][0] for p in parts)
            hi_sum = sum(bounds[p][1] for p in parts)
            b = bounds[whole]
            b[0], b[1] = max(b[0], lo_sum), min(b[1], hi_sum)
            for p in parts:
                others_lo, others_hi = lo_sum - bounds[p][0], hi_sum - bounds[p][1]
                bp = bounds[p]
                bp[0], bp[1] = max(bp[0], b[0] - others_hi), min(bp[1], b[1] - others_lo)
        if before == {k: tuple(v) for k, v in bounds.items()}:
            break


def test_a_single_small_count_in_a_row_is_not_left_alone():
    cells, row_totals, column_totals, total = protect([[3, 40, 60], [20, 30, 50]], T)
    assert cells[0][0].text == "fewer than 5"
    assert sum(1 for f in [*cells[0], row_totals[0]] if f.hidden) >= 2
    assert sum(1 for f in [cells[0][0], cells[1][0], column_totals[0]] if f.hidden) >= 2
    assert attack(None, cells, row_totals, column_totals, total) == {}


def test_two_ones_whose_sum_gives_them_away_are_protected():
    # 1 + 1 = 2 with both "fewer than 5": a shown total of 2 would pin both.
    cells, row_totals, column_totals, total = protect([[1, 1, 30], [40, 50, 60]], T)
    assert attack(None, cells, row_totals, column_totals, total) == {}


def test_a_small_count_beside_the_threshold_is_not_pinned_by_the_withheld_bound():
    # 1 beside a withheld 5 with their sum 6 shown would pin 1 (the withheld
    # one being at least 5): more is hidden.
    cells, row_totals, column_totals, total = protect([[1, 5, 0], [30, 30, 30]], T)
    assert attack(None, cells, row_totals, column_totals, total) == {}


@pytest.mark.parametrize("seed", range(300))
def test_random_tables_cannot_be_differenced(seed):
    rng = random.Random(seed)
    n_rows, n_cols = rng.randint(1, 6), rng.randint(1, 5)
    skew = rng.choice([3, 8, 30])
    counts = [[rng.choice([0, rng.randint(1, 4), rng.randint(0, skew)]) for _ in range(n_cols)] for _ in range(n_rows)]
    for exclusive in (True, False):
        cells, row_totals, column_totals, total = protect(counts, T, column_totals=exclusive)
        assert attack(counts, cells, row_totals, column_totals, total) == {}, (counts, exclusive)
        # Every figure shown is the count; every count under the threshold is hidden.
        for i, j in itertools.product(range(n_rows), range(n_cols)):
            fig = cells[i][j]
            assert fig.count in (None, counts[i][j])
            assert fig.hidden != PRIMARY or counts[i][j] < T
            assert fig.hidden == PRIMARY or not 0 < counts[i][j] < T
        for i, fig in enumerate(row_totals):
            assert fig.count in (None, sum(counts[i]))


def test_the_texts():
    cells, *_ = protect([[2, 50, 60]], T)
    assert [c.text for c in cells[0]][:1] == ["fewer than 5"]
    assert cells[0][0].export == "fewer than 5" and cells[0][0].count is None


@pytest.mark.parametrize("seed", range(50))
def test_separate_measures_are_each_protected_with_their_total(seed):
    from monitoring.suppression import protected_columns

    rng = random.Random(seed)
    counts = [[rng.choice([0, rng.randint(1, 4), rng.randint(0, 30)]) for _ in range(3)] for _ in range(rng.randint(1, 7))]
    p = protected_columns([str(i) for i in range(len(counts))], ["a", "b", "c"], counts, T)
    assert p.row_totals is None and p.total is None
    for j in range(3):
        column = [[p.cells[i][j]] for i in range(len(counts))]
        assert attack(None, column, [row[0] for row in column], [p.column_totals[j]], p.column_totals[j]) == {}
        for i, row in enumerate(counts):
            assert p.cells[i][j].count in (None, row[j]) and (p.cells[i][j].hidden == PRIMARY) >= (0 < row[j] < T)


@pytest.mark.parametrize("seed", range(120))
def test_stocks_side_by_side_give_away_nothing_added_between(seed):
    """Tables of a stock at successive periods' ends (the contexts known at
    each year's end): the attacker also knows that each table is the one
    before plus what was added in between (0 or more, never shown), and
    must pin down no count of 1 to 4, hidden or added."""
    rng = random.Random(seed)
    n_rows, n_cols, periods = rng.randint(1, 4), rng.randint(1, 3), rng.randint(2, 4)
    added = [[[rng.choice([0, 0, rng.randint(1, 4), rng.randint(0, 12)]) for _ in range(n_cols)]
              for _ in range(n_rows)] for _ in range(periods)]
    stocks = [[[sum(added[s][i][j] for s in range(t + 1)) for j in range(n_cols)] for i in range(n_rows)]
              for t in range(periods)]
    tables = protect_stocks(stocks, T)

    def with_margins(counts):
        grid = [row + [sum(row)] for row in counts]
        return grid + [[sum(row[j] for row in grid) for j in range(n_cols + 1)]]

    truth, bounds, lines, hidden = {}, {}, [], set()
    for t, (cells, row_totals, column_totals, total) in enumerate(tables):
        shown = [row + [rt] for row, rt in zip(cells, row_totals)] + [column_totals + [total]]
        for i, row in enumerate(with_margins(stocks[t])):
            for j, value in enumerate(row):
                fig, truth[(t, i, j)] = shown[i][j], value
                assert fig.count in (None, value) and (fig.hidden == PRIMARY) >= (0 < value < T)
                bounds[(t, i, j)] = ([0, T - 1] if fig.hidden == PRIMARY else [T, 10**9] if fig.hidden == SECONDARY
                                     else [0, 10**9] if fig.hidden == UNPUBLISHED else [value, value])
                if fig.count is None:
                    hidden.add((t, i, j))
        lines += grid_lines(n_rows, n_cols, key=lambda i, j, t=t: (t, i, j))
        if t:
            lines += grid_lines(n_rows, n_cols, key=lambda i, j, t=t: ("added", t, i, j))
            for i, j in itertools.product(range(n_rows + 1), range(n_cols + 1)):
                bounds[("added", t, i, j)] = [0, 10**9]
                truth[("added", t, i, j)] = truth[(t, i, j)] - truth[(t - 1, i, j)]
                lines.append([(t - 1, i, j), ("added", t, i, j), (t, i, j)])
                hidden.add(("added", t, i, j))
    narrow(bounds, lines)
    assert [k for k in hidden if bounds[k][0] == bounds[k][1] and 0 < truth[k] < T] == [], stocks
