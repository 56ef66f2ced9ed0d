"""app.serialize: tensors as JSON, block averaging, full precision, no NaN literals."""

import math

import numpy as np
import pytest

from app.serialize import JSONBytes, block_factors, block_mean, dumps, tensor, with_tensors
from tests.conftest import strict_json


def reference_block_mean(X, fr, fc):
    """Plain loops: the mean of every fr x fc block, edge blocks smaller."""
    R, C = X.shape
    out = np.empty((math.ceil(R / fr), math.ceil(C / fc)))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = X[i * fr:(i + 1) * fr, j * fc:(j + 1) * fc].mean()
    return out


@pytest.mark.parametrize(("shape", "max_cells"), [
    ((32, 1438), 16384), ((64, 1438), 16384), ((128, 2000), 16384), ((1, 2000), 100),
    ((2000, 1), 100), ((10, 10), 7), ((3, 3), 2), ((8, 2), 1), ((17, 23), 50), ((5, 5), 25),
])
def test_block_factors_fit_and_stay_within_the_shape(shape, max_cells):
    fr, fc = block_factors(shape, max_cells)
    R, C = shape
    assert 1 <= fr <= R and 1 <= fc <= C
    assert math.ceil(R / fr) * math.ceil(C / fc) <= max_cells


@pytest.mark.parametrize(("shape", "max_cells", "factors"), [
    ((10, 10), 100, (1, 1)),      # fits: untouched
    ((100, 100), 2500, (2, 2)),   # square stays square
    ((32, 1438), 16384, (2, 2)),  # the aspect ratio is kept
    ((1, 2000), 100, (1, 20)),    # a row vector shrinks along its only long axis
])
def test_block_factors_keep_the_aspect(shape, max_cells, factors):
    assert block_factors(shape, max_cells) == factors


@pytest.mark.parametrize(("shape", "fr", "fc"), [
    ((6, 8), 2, 2), ((7, 9), 2, 4), ((5, 13), 5, 3), ((1, 11), 1, 4), ((9, 1), 4, 1),
    ((64, 1438), 3, 2),
])
def test_block_mean_matches_loops(shape, fr, fc):
    X = np.random.default_rng(sum(shape)).standard_normal(shape)
    np.testing.assert_allclose(block_mean(X, fr, fc), reference_block_mean(X, fr, fc),
                               rtol=1e-12, atol=1e-15)


def test_tensor_at_full_size_is_exact_rows():
    X = np.random.default_rng(0).standard_normal((3, 5))
    out = strict_json(dumps(tensor(X)))
    assert out == {"shape": [3, 5], "data": X.tolist()}
    assert np.array_equal(np.array(out["data"]), X)  # full precision: bit-identical


def test_tensor_reduced_for_display_says_so():
    X = np.arange(200.0).reshape(10, 20)
    out = strict_json(dumps(tensor(X, max_cells=50)))
    assert out["downsampled_from"] == [10, 20]
    assert out["shape"][0] * out["shape"][1] <= 50
    fr, fc = block_factors((10, 20), 50)
    np.testing.assert_allclose(out["data"], reference_block_mean(X, fr, fc))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_null(value):
    X = np.array([[1.0, value], [0.5, 2.0]])
    text = dumps({"cost": float(value), "t": tensor(X), "small": tensor(X, max_cells=1)})
    assert b"NaN" not in text and b"Infinity" not in text
    out = strict_json(text)
    assert out["cost"] is None
    assert out["t"]["data"] == [[1.0, None], [0.5, 2.0]]
    assert out["small"]["data"] == [[None]]  # a block holding a non-finite value


@pytest.mark.parametrize("value", [0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -0.0, 1e-8])
def test_doubles_round_trip(value):
    assert strict_json(dumps(tensor(np.array([[value]]))))["data"][0][0] == value


def test_with_tensors_converts_nested_arrays_only():
    record = {"step": 3, "cost": np.float64(0.5), "batch": {"indices": [0, 2]},
              "layers": [{"W": np.ones((2, 2)), "D": None}]}
    out = strict_json(dumps(with_tensors(record)))
    assert out == {"step": 3, "cost": 0.5, "batch": {"indices": [0, 2]},
                   "layers": [{"W": {"shape": [2, 2], "data": [[1.0, 1.0], [1.0, 1.0]]},
                               "D": None}]}


def test_response_class_never_writes_nan():
    response = JSONBytes({"a": [float("nan"), float("inf")]})
    assert response.body == b'{"a":[null,null]}'
    assert response.media_type == "application/json"
