"""engine.scores: accuracy as argmax's first-maximum rule, R², a step's score on its own
batch (stacks of steps with their own targets), and a SetScorer against a plain forward."""

import numpy as np
import pytest

from engine.config import normalize_config
from engine.fast_step import with_ones
from engine.layout import ParamLayout
from engine.run import Run
from engine.scores import ClassLabels, SetScorer, predicted_classes, score

NAN = np.nan


def _first_max_accuracy(AL, Y):
    """Reference: a column is right when the first maximum is y's class; a column with a
    NaN or ±∞ never is (it predicts no class)."""
    right = [np.isfinite(col).all() and int(np.argmax(col)) == int(np.argmax(y))
             for col, y in zip(AL.T, Y.T, strict=True)]
    return float(np.mean(right))


def _plain_score(task, AL, Y):
    """Reference: R², or the share of columns whose prediction is y's class."""
    if task == "regression":
        total = np.sum((Y - Y.mean()) ** 2)
        return 1 - np.sum((AL - Y) ** 2) / total if total > 0 else np.nan
    if Y.shape[0] == 1:
        return np.mean(((AL > 0.5) == (Y > 0.5)) & np.isfinite(AL))
    return _first_max_accuracy(AL, Y)


@pytest.mark.parametrize(("AL", "labels", "expected"), [
    ([[0.2, 0.7], [0.8, 0.3]], [1, 1], 0.5),  # one maximum per column
    ([[0.5, 0.5], [0.5, 0.5]], [0, 1], 0.5),  # ties: the first class wins
    ([[0.5, NAN], [0.5, 0.2], [0.0, 0.3]], [1, 0], 0.0),  # a tie and a NaN column
    ([[NAN, 0.1], [0.3, 0.9]], [1, 1], 0.5),  # NaN is never right
    ([[np.inf, 0.1], [0.3, 0.9]], [0, 1], 0.5),  # nor +∞, though it is the maximum
    ([[-np.inf, 0.1], [0.3, 0.9]], [1, 1], 0.5),  # nor a column with -∞ in it
    ([[np.inf, -np.inf], [np.inf, np.inf]], [0, 1], 0.0),
])
def test_accuracy_follows_the_first_maximum(AL, labels, expected):
    AL = np.array(AL)
    Y = np.eye(AL.shape[0])[:, labels]
    assert score("multiclass", AL, Y) == pytest.approx(expected)
    assert score("multiclass", AL, Y, ClassLabels(Y)) == pytest.approx(expected)
    assert _first_max_accuracy(AL, Y) == pytest.approx(expected)


def test_stacked_steps_are_scored_each_on_its_own():
    """A tie in one step and a NaN in another must not cancel out across the stack."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        AL = rng.integers(0, 3, size=(4, 3, 6)).astype(float)  # small integers: many ties
        AL[rng.random(AL.shape) < 0.05] = NAN
        AL[rng.random(AL.shape) < 0.05] = np.inf
        AL[rng.random(AL.shape) < 0.05] = -np.inf
        Y = np.eye(3)[:, rng.integers(0, 3, 6)]
        expected = [_first_max_accuracy(step, Y) for step in AL]
        np.testing.assert_allclose(score("multiclass", AL, Y, ClassLabels(Y)), expected)


@pytest.mark.parametrize(("task", "n_y"), [("multiclass", 3), ("binary", 1),
                                           ("regression", 1)])
@pytest.mark.parametrize("ties", [False, True])
def test_each_step_is_scored_on_its_own_batch(task, n_y, ties):
    """A stack of steps (T, n_y, m) with each step's own targets (T, n_y, m), as mini-batch
    steps are scored: the same as scoring each step alone."""
    rng = np.random.default_rng(1)
    for _ in range(50):
        AL = rng.integers(0, 3, size=(5, n_y, 8)) / 2.0 if ties else rng.random((5, n_y, 8))
        if task == "multiclass":
            Y = np.stack([np.eye(n_y)[:, rng.integers(0, n_y, 8)] for _ in range(5)])
        else:
            Y = (rng.random((5, n_y, 8)) < 0.5) * 1.0
        Y[2] = Y[2, :, :1]  # a regression batch without spread: R² is NaN, not an error
        expected = [_plain_score(task, a, y) for a, y in zip(AL, Y, strict=True)]
        np.testing.assert_allclose(score(task, AL, Y), expected, rtol=1e-12)


@pytest.mark.parametrize(("task", "AL", "Y", "expected"), [
    ("binary", [[0.9, 0.4, 0.6]], [[1.0, 0.0, 0.0]], 2 / 3),
    # R² = 1 − Σ(a − y)² / Σ(y − ȳ)² = 1 − 1 / (14/3)
    ("regression", [[1.0, 2.0, 3.0]], [[1.0, 2.0, 4.0]], 1 - 3 / 14),
])
def test_binary_accuracy_and_r2(task, AL, Y, expected):
    assert score(task, np.array(AL), np.array(Y)) == pytest.approx(expected)


@pytest.mark.parametrize(("AL", "Y", "expected"), [
    # NaN > 0.5 is false, which had counted a NaN right wherever y = 0: a diverged step of
    # an all-NaN output scored the share of y = 0
    ([[NAN, NAN, NAN, NAN]], [[0.0, 0.0, 1.0, 0.0]], 0.0),
    ([[np.inf, -np.inf, 0.9, 0.2]], [[1.0, 0.0, 1.0, 0.0]], 0.5),
])
def test_a_binary_output_that_is_not_finite_is_never_right(AL, Y, expected):
    assert score("binary", np.array(AL), np.array(Y)) == pytest.approx(expected)
    stacked = np.array([AL, 0.1 + 0.8 * np.array(Y)])  # a step that is all right
    np.testing.assert_allclose(score("binary", stacked, np.array(Y)), [expected, 1.0])


@pytest.mark.parametrize(("AL", "classes"), [
    ([[0.2, 0.5, 0.51]], [0, 0, 1]),  # one unit: A > 0.5, as accuracy counts it
    ([[0.1, 0.7], [0.6, 0.7], [0.3, 0.0]], [1, 0]),  # a tie: the first largest
    ([[np.nan, 0.2, np.inf], [0.5, 0.8, 0.1]], [None, 1, None]),  # not finite: no class
])
def test_predicted_classes(AL, classes):
    assert predicted_classes(np.array(AL)) == classes


@pytest.mark.parametrize("n_y", [1, 4])
def test_predicted_classes_count_as_accuracy_does(n_y):
    rng = np.random.default_rng(0)
    AL = rng.random((n_y, 50))
    AL[rng.random(AL.shape) < 0.1] = rng.choice([NAN, np.inf, -np.inf])
    Y = np.eye(max(n_y, 2))[rng.integers(0, max(n_y, 2), 50)].T[-n_y:]
    labels = Y[0] > 0.5 if n_y == 1 else Y.argmax(axis=0)
    right = [c is not None and c == y for c, y in zip(predicted_classes(AL), labels, strict=True)]
    task = "binary" if n_y == 1 else "multiclass"
    assert np.mean(right) == pytest.approx(score(task, AL, Y))


def _plain_forward(layout, theta, X, activations):
    """AL of θ on X by the plain formulas A = g(W A_prev + b), layer by layer."""
    g = {"relu": lambda Z: np.maximum(Z, 0), "tanh": np.tanh,
         "sigmoid": lambda Z: 1 / (1 + np.exp(-Z)), "linear": lambda Z: Z,
         "softmax": lambda Z: np.exp(Z - Z.max(0)) / np.exp(Z - Z.max(0)).sum(0)}
    params, A = layout.views(theta), X
    for l in range(1, layout.L + 1):
        A = g[activations[l - 1]](params[f"W{l}"] @ A + params[f"b{l}"])
    return A


@pytest.mark.parametrize("raw", [
    {"dataset": "spiral", "n_samples": 120, "hidden_layers": [6, 5]},  # softmax
    {"dataset": "moons", "hidden_layers": [4], "activations": ["tanh", "sigmoid"]},
    {"dataset": "sine", "hidden_layers": [8]},  # R²
], ids=["softmax", "sigmoid", "regression"])
def test_a_set_scorer_scores_each_theta_by_a_plain_forward(raw, monkeypatch):
    """Several θ at once, in groups of a stacked forward (a group of 2 here), each scored
    as a forward pass of its own over the whole set would score it."""
    cfg = normalize_config({**raw, "steps": 1})
    data, layout = Run(cfg).data, ParamLayout(Run(cfg).dims)
    thetas = list(np.random.default_rng(2).standard_normal((5, layout.size)))
    scorer = SetScorer(data.info.task, layout, cfg["activations"], with_ones(data.X_test),
                       data.Y_test)
    scorer.group = 2
    expected = [_plain_score(data.info.task, _plain_forward(layout, theta, data.X_test,
                                                            cfg["activations"]), data.Y_test)
                for theta in thetas]
    np.testing.assert_allclose(scorer(thetas), expected, rtol=1e-9, atol=1e-12)
