"""Tests for engine.check.compare: where a learner's result first differs, and how it reads."""

import numpy as np
import pytest

from engine.check.compare import describe, first_difference

A = np.array([[1.0, 2.0], [3.0, 4.0]])
COLUMN = np.array([[1.0], [2.0]])


@pytest.mark.parametrize(("expected", "got", "path", "kind", "summary"), [
    (COLUMN, COLUMN.ravel(), (), "shape", "shape (2,) instead of (2, 1)"),  # broadcasting hides it
    (np.float64(0.5), np.array([[0.5]]), (), "shape", "shape (1, 1) instead of ()"),
    (A, A * [[1, 1], [1, 3]], (), "values", "different values: 12 instead of 4 at [1, 1]"),
    ((A, (A, COLUMN)), (A, (COLUMN, COLUMN)), (1, 0), "shape", "shape (2, 1) instead of (2, 2)"),
    ((A, (A, COLUMN)), (A, A), (1,), "type", "an array (2, 2) instead of a tuple of 2"),
    ((A, COLUMN), (A, COLUMN, A), (), "length", "3 values instead of 2"),
    ({"dW1": A, "db1": COLUMN}, {"dW1": A}, (), "keys", "db1 missing"),
    ({"dA0": A}, {"dA1": A}, (), "keys", "dA0 missing; dA1 not expected"),
    ({"W1": A, "b1": COLUMN}, {"W1": A, "b1": 2 * COLUMN}, ("b1",), "values",
     "different values: 2 instead of 1 at [0, 0]"),
    (A, None, (), "type", "None instead of an array (2, 2)"),
    (A, A.astype(bool), (), "type", "an array (2, 2) of bool instead of an array (2, 2)"),
    ("relu", "sigmoid", (), "values", "'sigmoid' instead of 'relu'"),
    (A, [[1.0, 2.0], [3.0, 4.0]], (), "type", "a list of 2 instead of an array (2, 2)"),
])
def test_the_first_difference(expected, got, path, kind, summary):
    found = first_difference(expected, got)
    assert (found.path, found.kind, found.summary) == (path, kind, summary)


@pytest.mark.parametrize(("expected", "got"), [
    (A, A.copy()),
    ((A, [COLUMN]), [A, (COLUMN,)]),  # a list where the course has a tuple holds the same
    (np.float64(0.3), 0.3),
    (np.float64(0.3), np.array(0.3)),  # np.squeeze's 0-d array is a number
    (np.array([[1.0]]), np.array([[1.0 + 0.9e-7]])),  # relative 1e-7
    (np.array([[1e-20]]), np.array([[0.9e-12]])),  # absolute 1e-12
    (np.array([np.nan, np.inf]), np.array([np.nan, np.inf])),
    (np.array([[2.0]]), np.array([[2]])),  # integers are numbers too
    ({"a": A, "b": "relu"}, {"b": "relu", "a": A}),  # key order does not matter
])
def test_equal_within_tolerance(expected, got):
    assert first_difference(expected, got) is None


@pytest.mark.parametrize(("expected", "got"), [
    (np.array([[1.0]]), np.array([[1.0 + 1.1e-7]])),
    (np.array([[1e-20]]), np.array([[1.1e-12]])),
    (np.array([1.0]), np.array([np.nan])),
])
def test_beyond_tolerance(expected, got):
    assert first_difference(expected, got).kind == "values"


@pytest.mark.parametrize(("value", "text"), [
    (np.array([[-0.0, 1e-20], [3.5, 2.0]]), "an array (2, 2): [[0, 1e-20], [3.5, 2]]"),
    (np.arange(10.0).reshape(1, 10), "an array (1, 10): [[0, 1, ..., 8, 9]]"),
    (np.float64(0.27977656357934), "0.2797765636"),
    (np.array(0.5), "0.5 (a 0-d array)"),
    ((A, (A, COLUMN), None), "a tuple of 3: (an array (2, 2), a tuple of 2, None)"),
    ({"W1": A, "b1": COLUMN}, "a dict with keys W1, b1"),
    ("relu", "'relu'"),
])
def test_describe(value, text):
    assert describe(value) == text
