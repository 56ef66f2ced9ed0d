"""app.report_figures: a report's heatmap keeps a layer's units as separate rows and
averages along the columns (examples), within REPORT_MAX_CELLS cells
(app.serialize.block_factors); its title says the shape drawn."""

import math
import re

import numpy as np
import pytest

from app.report_figures import REPORT_DIGITS, REPORT_MAX_CELLS, heatmap_panel
from app.serialize import MAX_WHOLE_ROWS, significant


def column_block_means(X, fc):
    """Plain loops: each row's means over runs of fc columns, the last run shorter."""
    R, C = X.shape
    return np.array([[X[i, j:j + fc].mean() for j in range(0, C, fc)] for i in range(R)])


def drawn(X):
    """(the panel's cells, its title) for X."""
    trace, note = heatmap_panel("Z", X, "", 0.5)
    return np.array(trace["z"], dtype=float), note["text"]


@pytest.mark.parametrize(("shape", "shown"), [
    ((8, 320), (8, 107)),     # the default run's Z[1]: its 8 units stay 8 rows
    ((3, 2000), (3, 334)),    # the output layer of 3 classes on the biggest data
    ((32, 1600), (32, 32)),
    ((64, 1400), (64, 16)),   # digits' X: one row per pixel
    ((128, 2000), (64, 16)),  # the widest layer: past MAX_WHOLE_ROWS, units in pairs
    ((128, 16), (64, 16)),
    ((100, 1600), (50, 20)),
    ((128, 2), (128, 2)),     # within the cells: drawn whole
    ((2, 320), (2, 320)),
])
def test_units_stay_rows_and_the_cells_stay_bounded(shape, shown):
    cells, title = drawn(np.random.default_rng(0).normal(size=shape))
    assert cells.shape == shown
    assert cells.size <= REPORT_MAX_CELLS
    assert shown[0] == shape[0] or shape[0] > MAX_WHOLE_ROWS
    said = re.search(r"(\d+)×(\d+) block means", title)
    assert (said is None) == (shown == shape)
    assert said is None or tuple(map(int, said.groups())) == shown


def test_the_cells_are_each_rows_means_over_runs_of_columns():
    X = np.random.default_rng(1).normal(size=(8, 320))
    cells, _ = drawn(X)
    fc = math.ceil(320 / cells.shape[1])
    assert np.array_equal(cells, significant(column_block_means(X, fc), REPORT_DIGITS))


def test_a_block_of_inf_and_minus_inf_is_drawn_as_a_gap():
    X = np.zeros((4, 2000))
    X[0, :2], X[1, 0] = [np.inf, -np.inf], np.inf
    cells, title = drawn(X)
    assert np.isnan(cells[0, 0]) and cells[1, 0] == np.inf and "0 … 0" in title
