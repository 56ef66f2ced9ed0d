"""Tests for engine.activations: forward formulas, backward vs finite differences, stability."""

import warnings

import numpy as np
import pytest
from finite_differences import numerical_gradient, rel_error

from engine import activations as act

NAMES = ["relu", "leaky_relu", "tanh", "sigmoid", "linear", "softmax"]
KINKED = {"relu", "leaky_relu"}


def _explicit(name, Z):
    """Each activation written straight from its textbook formula (moderate Z only)."""
    if name == "relu":
        return Z * (Z > 0)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, 0.01 * Z)
    if name == "tanh":
        return (np.exp(Z) - np.exp(-Z)) / (np.exp(Z) + np.exp(-Z))
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    if name == "linear":
        return Z
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


def _sample_Z(name, shape=(4, 5), seed=0):
    """Z ~ N(0, 1.5²), kept at least 0.1 from the kink at 0 for relu and leaky relu."""
    Z = np.random.default_rng(seed).normal(0.0, 1.5, size=shape)
    if name in KINKED:
        Z = np.where(np.abs(Z) < 0.1, np.sign(Z + 1e-300) * 0.1 + Z, Z)
    return Z


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_formula(name):
    Z = _sample_Z(name)
    Z_before = Z.copy()
    forward, _ = act.ACTIVATIONS[name]
    A, cache = forward(Z)
    assert A.shape == Z.shape and A.dtype == np.float64
    # float64 formulas agree to a few ulps; 1e-14 leaves room for tanh's cancellation
    np.testing.assert_allclose(A, _explicit(name, Z), rtol=1e-14, atol=1e-15)
    assert cache is Z, "the activation cache is Z itself"
    np.testing.assert_array_equal(Z, Z_before)
    assert A is not Z, "A must not alias the cache"


@pytest.mark.parametrize("name", NAMES)
def test_named_dispatch_is_the_pair(name):
    Z = _sample_Z(name)
    A, _ = act.activation_forward(name, Z)
    np.testing.assert_array_equal(A, act.ACTIVATIONS[name][0](Z)[0])
    dA = np.random.default_rng(1).standard_normal(Z.shape)
    np.testing.assert_array_equal(act.activation_backward(name, dA, Z),
                                  act.ACTIVATIONS[name][1](dA, Z))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backward_matches_finite_differences(name, seed):
    """dZ = ∂/∂Z Σ dA ⊙ g(Z): the vector-Jacobian product, incl. softmax's mixing."""
    Z = _sample_Z(name, seed=seed)
    dA = np.random.default_rng(seed + 100).standard_normal(Z.shape)
    forward, backward = act.ACTIVATIONS[name]
    numeric = numerical_gradient(lambda: np.sum(dA * forward(Z)[0]), Z)
    dZ = backward(dA, Z)
    assert dZ.shape == Z.shape
    # see finite_differences: correct gradients agree to ~1e-9 here
    assert rel_error(dZ, numeric) < 1e-7


@pytest.mark.parametrize(("name", "slope_below"), [("relu", 0.0), ("leaky_relu", 0.01)])
def test_piecewise_derivatives_and_value_at_zero(name, slope_below):
    """relu'(0) = 0 as the course (Z > 0 strictly); leaky relu takes the 0.01 side at 0."""
    Z = np.array([[-2.0, -1e-300, 0.0, 1e-300, 3.0]])
    dA = np.array([[5.0, 5.0, 5.0, 5.0, 5.0]])
    dZ = act.ACTIVATIONS[name][1](dA, Z)
    expected = 5.0 * np.array([[slope_below, slope_below, slope_below, 1.0, 1.0]])
    np.testing.assert_array_equal(dZ, expected)


def test_relu_backward_at_zero_is_zero():
    Z = np.zeros((3, 4))
    np.testing.assert_array_equal(act.relu_backward(np.ones((3, 4)), Z), 0.0)
    np.testing.assert_array_equal(act.relu(Z)[0], 0.0)


def test_relu_backward_is_the_courses_at_infinities():
    """dZ = dA copied and zeroed where Z ≤ 0, as the course writes it (and autograd's
    ReLU gives): 0 where Z ≤ 0 even for an infinite dA, +0.0 for a negative dA, and dA
    where Z is NaN (NaN ≤ 0 is false)."""
    Z = np.array([[-1.0, 0.0, 2.0, -3.0, np.nan, 1.0]])
    dA = np.array([[np.inf, -np.inf, np.inf, -2.0, 4.0, np.nan]])
    dZ = act.relu_backward(dA, Z)
    np.testing.assert_array_equal(dZ, [[0.0, 0.0, np.inf, 0.0, 4.0, np.nan]])
    assert not np.signbit(dZ[0, 3])
    assert dA[0, 0] == np.inf  # dA itself is not changed


def test_relu_backward_of_a_dA_of_another_shape_raises_as_the_courses_does():
    """The course's copy-and-zero raises where dA does not have Z's shape (dAL handed to a
    hidden layer); `backprop-lens check` runs it, so a learner's call fails as in their
    notebook, not with numbers broadcast into Z's shape."""
    with pytest.raises(IndexError, match="boolean index did not match"):
        act.relu_backward(np.ones((1, 4)), np.ones((3, 4)))


@pytest.mark.parametrize(("Z", "expected"), [
    (np.array([[1000.0, -1000.0, 0.0]]), np.array([[1.0, 0.0, 0.5]])),
    (np.array([[800.0, -800.0, 40.0, -40.0]]),
     np.array([[1.0, 0.0, 1.0 / (1.0 + np.exp(-40.0)), np.exp(-40.0) / (1.0 + np.exp(-40.0))]])),
])
def test_sigmoid_is_stable_for_large_inputs(Z, expected):
    # underflow to 0 is IEEE's correct answer and NumPy's default ignores it; every
    # other floating-point event (overflow, 0/0, x/0) would be a bug and raises here
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        A, _ = act.sigmoid(Z)
        dZ = act.sigmoid_backward(np.ones_like(Z), Z)
    np.testing.assert_allclose(A, expected, rtol=1e-15, atol=0)
    assert np.isfinite(dZ).all()
    assert (A >= 0).all() and (A <= 1).all()


@pytest.mark.parametrize("Z", [
    np.array([[1000.0, 0.0], [0.0, -1000.0], [-1000.0, 1000.0]]),
    np.array([[1000.0, -1000.0], [1000.0, -1000.0], [1000.0, -1000.0]]),
])
def test_softmax_is_stable_for_large_inputs(Z):
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        A, _ = act.softmax(Z)
        dZ = act.softmax_backward(np.ones_like(Z), Z)
    assert np.isfinite(A).all() and np.isfinite(dZ).all()
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-15)
    # the same as softmax of the shifted columns, which no longer overflow
    np.testing.assert_allclose(A, _explicit("softmax", Z - Z.max(axis=0)), rtol=1e-15, atol=0)


def test_softmax_columns_are_independent_and_sum_to_one():
    Z = _sample_Z("softmax", shape=(5, 7))
    A, _ = act.softmax(Z)
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-15)
    for i in range(Z.shape[1]):
        np.testing.assert_allclose(A[:, [i]], act.softmax(Z[:, [i]])[0], rtol=1e-15)
    # shift invariance per column
    np.testing.assert_allclose(act.softmax(Z + np.arange(7.0) * 100)[0], A, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_backward_never_modifies_its_inputs(name):
    Z = _sample_Z(name)
    dA = np.random.default_rng(3).standard_normal(Z.shape)
    dA_before, Z_before = dA.copy(), Z.copy()
    dZ = act.ACTIVATIONS[name][1](dA, Z)
    np.testing.assert_array_equal(dA, dA_before)
    np.testing.assert_array_equal(Z, Z_before)
    assert not np.shares_memory(dZ, dA) and not np.shares_memory(dZ, Z)
    # and the caller may modify dZ without touching dA
    dZ += 1.0
    np.testing.assert_array_equal(dA, dA_before)


def test_every_activation_has_a_pair_and_softmax_is_output_only():
    assert list(act.ACTIVATIONS) == NAMES
    assert {"softmax"} == act.OUTPUT_ONLY
    assert act.LEAKY_SLOPE == 0.01
