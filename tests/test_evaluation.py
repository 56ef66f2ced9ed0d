"""Tests for engine.evaluation.metric: accuracy as argmax's first-maximum rule, and R²."""

import numpy as np
import pytest

from engine.evaluation import ClassLabels, metric, predicted_classes

NAN = np.nan


def _first_max_accuracy(AL, Y):
    """Reference: a column is right when the first maximum is y's class; NaN never is."""
    right = [not np.isnan(col).any() and int(np.argmax(col)) == int(np.argmax(y))
             for col, y in zip(AL.T, Y.T, strict=True)]
    return float(np.mean(right))


@pytest.mark.parametrize(("AL", "labels", "expected"), [
    ([[0.2, 0.7], [0.8, 0.3]], [1, 1], 0.5),  # one maximum per column
    ([[0.5, 0.5], [0.5, 0.5]], [0, 1], 0.5),  # ties: the first class wins
    ([[0.5, NAN], [0.5, 0.2], [0.0, 0.3]], [1, 0], 0.0),  # a tie and a NaN column
    ([[NAN, 0.1], [0.3, 0.9]], [1, 1], 0.5),  # NaN is never right
])
def test_accuracy_follows_the_first_maximum(AL, labels, expected):
    AL = np.array(AL)
    Y = np.eye(AL.shape[0])[:, labels]
    assert metric("multiclass", AL, Y) == pytest.approx(expected)
    assert metric("multiclass", AL, Y, ClassLabels(Y)) == pytest.approx(expected)
    assert _first_max_accuracy(AL, Y) == pytest.approx(expected)


def test_stacked_steps_are_scored_each_on_its_own():
    """A tie in one step and a NaN in another must not cancel out across the stack."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        AL = rng.integers(0, 3, size=(4, 3, 6)).astype(float)  # small integers: many ties
        AL[rng.random(AL.shape) < 0.05] = NAN
        Y = np.eye(3)[:, rng.integers(0, 3, 6)]
        expected = [_first_max_accuracy(step, Y) for step in AL]
        np.testing.assert_allclose(metric("multiclass", AL, Y, ClassLabels(Y)), expected)


@pytest.mark.parametrize(("task", "AL", "Y", "expected"), [
    ("binary", [[0.9, 0.4, 0.6]], [[1.0, 0.0, 0.0]], 2 / 3),
    # R² = 1 − Σ(a − y)² / Σ(y − ȳ)² = 1 − 1 / (14/3)
    ("regression", [[1.0, 2.0, 3.0]], [[1.0, 2.0, 4.0]], 1 - 3 / 14),
])
def test_binary_accuracy_and_r2(task, AL, Y, expected):
    assert metric(task, np.array(AL), np.array(Y)) == pytest.approx(expected)


@pytest.mark.parametrize(("AL", "classes"), [
    ([[0.2, 0.5, 0.51]], [0, 0, 1]),  # one unit: A > 0.5, as accuracy counts it
    ([[0.1, 0.7], [0.6, 0.7], [0.3, 0.0]], [1, 0]),  # a tie: the first largest
    ([[np.nan, 0.2, np.inf], [0.5, 0.8, 0.1]], [None, 1, None]),  # not finite: no class
])
def test_predicted_classes(AL, classes):
    assert predicted_classes(np.array(AL)) == classes


def test_predicted_classes_count_as_accuracy_does():
    rng = np.random.default_rng(0)
    AL, Y = rng.random((4, 50)), np.eye(4)[rng.integers(0, 4, 50)].T
    right = np.array(predicted_classes(AL)) == Y.argmax(axis=0)
    assert right.mean() == pytest.approx(metric("multiclass", AL, Y))
