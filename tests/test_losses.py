"""Tests for engine.losses: the documented formulas, per-example gradients, fused heads, logits.

(The fused output gradient A − Y and the one-hot cost of training: tests/test_fast_step.py.)"""

import warnings

import numpy as np
import pytest
from finite_differences import numerical_gradient, rel_error

from engine import losses
from engine.activations import ACTIVATIONS
from engine.losses import loss_backward

M = 6


def _targets(loss, n_y, m=M, seed=0):
    """Y for a loss: 0/1 labels, one-hot columns, or real targets."""
    rng = np.random.default_rng(seed)
    if loss == "binary_cross_entropy":
        return (rng.random((n_y, m)) < 0.5).astype(float)
    if loss == "categorical_cross_entropy":
        return np.eye(n_y)[rng.integers(n_y, size=m)].T
    return rng.normal(size=(n_y, m))


def _probabilities(loss, n_y, m=M, seed=1):
    """A in the loss's domain: (0, 1) entries, or softmax columns, or any real."""
    rng = np.random.default_rng(seed)
    if loss == "binary_cross_entropy":
        return rng.uniform(0.05, 0.95, size=(n_y, m))
    if loss == "categorical_cross_entropy":
        E = rng.uniform(0.1, 1.0, size=(n_y, m))
        return E / E.sum(axis=0)
    return rng.normal(size=(n_y, m))


def _contract_cost(loss, A, Y):
    """The documented losses, written out with explicit loops over examples."""
    m = A.shape[1]
    total = 0.0
    for i in range(m):
        a, y = A[:, i], Y[:, i]
        if loss == "binary_cross_entropy":
            total += -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a))
        elif loss == "categorical_cross_entropy":
            total += -np.sum(y * np.log(a))
        else:
            total += 0.5 * np.sum((a - y) ** 2)
    return total / m


LOSS_SHAPES = [("binary_cross_entropy", 1), ("binary_cross_entropy", 3),
               ("categorical_cross_entropy", 4), ("mse", 1), ("mse", 2)]


@pytest.mark.parametrize(("loss", "n_y"), LOSS_SHAPES)
def test_cost_matches_contract_formula(loss, n_y):
    A, Y = _probabilities(loss, n_y), _targets(loss, n_y)
    cost = losses.LOSSES[loss][0](A, Y)
    # the same sum in another order: ~1e-16 relative, 1e-13 is generous
    np.testing.assert_allclose(cost, _contract_cost(loss, A, Y), rtol=1e-13)


@pytest.mark.parametrize(("loss", "A", "Y", "expected"), [
    # hand values: -(1/2)(log .5 + log .5) = log 2; -(1/1) log 0.25; (1/2·2)(1² + 3²)
    ("binary_cross_entropy", [[0.5, 0.5]], [[1.0, 0.0]], np.log(2.0)),
    ("categorical_cross_entropy", [[0.25], [0.75]], [[1.0], [0.0]], np.log(4.0)),
    ("mse", [[1.0, -1.0]], [[0.0, 2.0]], 2.5),
])
def test_cost_hand_values(loss, A, Y, expected):
    cost = losses.LOSSES[loss][0](np.array(A), np.array(Y))
    assert cost == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(("loss", "n_y"), LOSS_SHAPES)
def test_dA_is_m_times_the_gradient_of_J(loss, n_y):
    """Per-example scaling: dA = m · ∂J/∂A (the course's scaling)."""
    A, Y = _probabilities(loss, n_y), _targets(loss, n_y)
    cost, backward = losses.LOSSES[loss]
    numeric = numerical_gradient(lambda: cost(A, Y), A)
    dA = backward(A, Y)
    assert dA.shape == A.shape
    assert rel_error(dA, M * numeric) < 1e-7


@pytest.mark.parametrize(("activation", "loss", "n_y"), [
    ("sigmoid", "binary_cross_entropy", 1),
    ("sigmoid", "binary_cross_entropy", 3),
    ("softmax", "categorical_cross_entropy", 4),
])
def test_fused_heads_dZ_through_dA_is_A_minus_Y_and_m_dJ_dZ(activation, loss, n_y):
    """The course's way, dZ[L] = g'(Z[L]) ⊙ dA[L]: A − Y (engine.fast_step fuses it)."""
    Z = np.random.default_rng(2).normal(0.0, 2.0, size=(n_y, M))
    Y = _targets(loss, n_y)
    forward, backward = ACTIVATIONS[activation]
    A = forward(Z)[0]
    dA = losses.loss_backward(loss, A, Y)
    np.testing.assert_array_equal(dA, losses.LOSSES[loss][1](A, Y))
    dZ = backward(dA, Z)
    np.testing.assert_allclose(dZ, A - Y, rtol=1e-13, atol=1e-15)
    numeric = numerical_gradient(lambda: losses.LOSSES[loss][0](forward(Z)[0], Y), Z)
    assert rel_error(dZ, M * numeric) < 1e-7
    # and the cost from logits has the same gradient
    numeric_logits = numerical_gradient(
        lambda: losses.compute_loss(loss, activation, forward(Z)[0], Y, Z), Z)
    assert rel_error(dZ, M * numeric_logits) < 1e-7


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid", "linear",
                                        "softmax"])
def test_mse_head_dZ_is_m_dJ_dZ(activation):
    n_y = 3
    Z = np.random.default_rng(4).normal(0.0, 1.5, size=(n_y, M))
    Z = np.where(np.abs(Z) < 0.1, 0.2, Z)  # away from the relu kink
    Y = _targets("mse", n_y)
    forward = ACTIVATIONS[activation][0]
    A = forward(Z)[0]
    dA = losses.loss_backward("mse", A, Y)
    dZ = ACTIVATIONS[activation][1](dA, Z)
    np.testing.assert_array_equal(dA, A - Y)
    numeric = numerical_gradient(
        lambda: losses.compute_loss("mse", activation, forward(Z)[0], Y, Z), Z)
    assert rel_error(dZ, M * numeric) < 1e-7


@pytest.mark.parametrize(("activation", "loss", "n_y"), [
    ("sigmoid", "binary_cross_entropy", 1),
    ("sigmoid", "binary_cross_entropy", 2),
    ("softmax", "categorical_cross_entropy", 3),
])
def test_cost_from_logits_equals_cost_from_A(activation, loss, n_y):
    Z = np.random.default_rng(5).normal(0.0, 3.0, size=(n_y, M))
    Y = _targets(loss, n_y)
    A = ACTIVATIONS[activation][0](Z)[0]
    from_logits = losses.compute_loss(loss, activation, A, Y, Z)
    assert isinstance(from_logits, float)
    # log(sigmoid) vs the logit form differ by rounding only at |Z| ~ 10
    assert from_logits == pytest.approx(_contract_cost(loss, A, Y), rel=1e-12)


@pytest.mark.parametrize(("Y", "expected"), [
    ([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], [1, 0, 2]),
    ([[1.0, 1.0], [0.0, 0.0]], [0, 0]),
    ([[0.0, 1.0, 1.0]], None),  # binary targets: one row
    ([[0.0, 1.0], [0.0, 0.0]], None),  # a column without its 1
    ([[1.0, 1.0], [1.0, 0.0]], None),  # a column with two
    ([[0.5, 1.0], [0.5, 0.0]], None),  # soft targets
    ([[2.0, 1.0], [0.0, 0.0]], None),
    ([[-1.0, 1.0], [1.0, 0.0]], None),
])
def test_one_hot_labels(Y, expected):
    labels = losses.one_hot_labels(np.array(Y))
    assert labels is None if expected is None else labels.tolist() == expected


@pytest.mark.parametrize(("activation", "loss", "Z", "Y", "expected"), [
    # per example: max(z,0) - z y + log(1 + e^-|z|) -> 800, 0, 0, 800; mean 400
    ("sigmoid", "binary_cross_entropy",
     [[800.0, 800.0, -800.0, -800.0]], [[0.0, 1.0, 0.0, 1.0]], 400.0),
    # -log softmax of the labelled logit: 1600 and 0; mean 800
    ("softmax", "categorical_cross_entropy",
     [[800.0, 800.0], [-800.0, -800.0], [0.0, 0.0]], [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]],
     800.0),
    # a = e^-720 is subnormal, with few digits: log a must come from the logits
    ("softmax", "categorical_cross_entropy", [[0.0], [-720.0]], [[0.0], [1.0]], 720.0),
])
def test_cost_from_logits_is_exact_for_huge_logits(activation, loss, Z, Y, expected):
    Z, Y = np.array(Z), np.array(Y)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        A = ACTIVATIONS[activation][0](Z)[0]
        cost = losses.compute_loss(loss, activation, A, Y, Z)
        dA = losses.loss_backward(loss, A, Y)
    assert cost == pytest.approx(expected, rel=1e-15)
    assert np.isfinite(dA).all()  # a subnormal a too (e^-720): -1/tiny, not -inf


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "categorical_cross_entropy"])
def test_saturated_probabilities_stay_finite(loss):
    """The A-based formulas move an a of exactly 0 or 1 by EPS: a large finite cost and
    gradient, never inf/nan."""
    A = np.array([[1.0, 0.0], [0.0, 1.0]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        cost = losses.LOSSES[loss][0](A, Y)
        dA = losses.LOSSES[loss][1](A, Y)
    assert np.isfinite(cost) and cost > 30
    assert np.isfinite(dA).all()


@pytest.mark.parametrize(("loss", "n_y"), LOSS_SHAPES)
def test_losses_do_not_modify_inputs(loss, n_y):
    A, Y = _probabilities(loss, n_y), _targets(loss, n_y)
    A0, Y0 = A.copy(), Y.copy()
    losses.LOSSES[loss][0](A, Y)
    losses.LOSSES[loss][1](A, Y)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(Y, Y0)


def test_fused_table_names_the_two_canonical_heads():
    assert set(losses.FUSED) == {("sigmoid", "binary_cross_entropy"),
                                 ("softmax", "categorical_cross_entropy")}


@pytest.mark.parametrize(("loss", "a", "y", "dA"), [
    # -1/a, however large: a ≥ 1e-15 had made it -1e15, and dZ = dA · a(1 - a) 100 × too small
    ("binary_cross_entropy", 5e-20, 1.0, -2e19),
    ("binary_cross_entropy", 1.0 - 2**-53, 0.0, 2**53),
    ("categorical_cross_entropy", 5e-20, 1.0, -2e19),
    # exactly 0 or 1, where the formula is infinite: moved by EPS
    ("binary_cross_entropy", 0.0, 1.0, -1e15),
    ("binary_cross_entropy", 1.0, 0.0, 1 / (1 - (1 - 1e-15))),
    ("categorical_cross_entropy", 0.0, 1.0, -1e15),
    ("binary_cross_entropy", 0.3, 1.0, -1 / 0.3),
    # a subnormal a, where 1/a overflows: taken as the smallest normal float (dZ stays finite)
    ("binary_cross_entropy", 5e-324, 1.0, -1 / np.finfo(float).tiny),
    ("categorical_cross_entropy", 1e-320, 1.0, -1 / np.finfo(float).tiny),
])
def test_the_output_gradient_is_the_formulas_wherever_that_is_finite(loss, a, y, dA):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = loss_backward(loss, np.array([[a]]), np.array([[y]]))
    assert got[0, 0] == pytest.approx(dA, rel=1e-12)


@pytest.mark.parametrize(("a", "y"), [(1e-17, 1.0), (1e-300, 1.0), (1 - 2**-52, 0.0),
                                      (1e-17, 0.0), (0.5, 1.0)])
def test_the_cost_is_the_formulas_wherever_that_is_finite(a, y):
    """-(y log a + (1 - y) log(1 - a)) as the course writes it, however close a is to 0
    or 1: a ≥ 1e-15 had given 34.5 where a = 1e-17 costs 39.1."""
    expected = -(y * np.log(a) + (1 - y) * np.log(1 - a))
    got = losses.binary_cross_entropy(np.array([[a]]), np.array([[y]]))
    assert got == pytest.approx(expected, rel=1e-15)
