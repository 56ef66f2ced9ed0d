"""Tests for engine.layers: each layer's forward and its backward against centred finite
differences, with the course's caches and scaling.

The backward of a layer is checked as a vector-Jacobian product: for an upstream gradient
G, J = (1/m) Σ G ⊙ out, so that m·∂J/∂A_prev is the per-example dA_prev and ∂J/∂W, ∂J/∂b
are dW and db, as the course scales them.
"""

import numpy as np
import pytest
from finite_differences import numerical_gradient, rel_error

from engine.activations import ACTIVATIONS
from engine.layers import (
    dropout_backward,
    dropout_forward,
    linear_activation_backward,
    linear_activation_forward,
    linear_backward,
    linear_forward,
)

SHAPES = [(3, 2, 5), (1, 4, 1), (4, 4, 7), (2, 6, 3)]  # (n, n_prev, m)


def _layer(n, n_prev, m, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n_prev, m)), rng.standard_normal((n, n_prev)) / np.sqrt(n_prev),
            rng.normal(0.0, 0.5, size=(n, 1)))


@pytest.mark.parametrize(("n", "n_prev", "m"), SHAPES)
def test_linear_forward_is_W_A_plus_b_with_the_inputs_as_cache(n, n_prev, m):
    A, W, b = _layer(n, n_prev, m)
    Z, cache = linear_forward(A, W, b)
    assert Z.shape == (n, m)
    expected = np.array([[sum(W[i, k] * A[k, j] for k in range(n_prev)) + b[i, 0]
                          for j in range(m)] for i in range(n)])
    np.testing.assert_allclose(Z, expected, rtol=1e-13, atol=1e-13)
    assert cache[0] is A and cache[1] is W and cache[2] is b


def test_linear_forward_and_backward_take_integers():
    """The course's test cases are floats, but a learner may pass integers."""
    A, W, b = np.array([[1, 2], [3, 4]]), np.array([[1, -1]]), np.array([[2]])
    Z, cache = linear_forward(A, W, b)
    np.testing.assert_array_equal(Z, [[0, 0]])
    dA_prev, dW, db = linear_backward(np.array([[1, 3]]), cache)
    np.testing.assert_array_equal(dW, [[3.5, 7.5]])  # (1/2) dZ Aᵀ
    np.testing.assert_array_equal(db, [[2.0]])
    np.testing.assert_array_equal(dA_prev, [[1, 3], [-1, -3]])


@pytest.mark.parametrize(("n", "n_prev", "m"), SHAPES)
def test_linear_backward_matches_finite_differences(n, n_prev, m):
    A, W, b = _layer(n, n_prev, m, seed=n + m)
    dZ = np.random.default_rng(9).standard_normal((n, m))

    def J():
        return np.sum(dZ * linear_forward(A, W, b)[0]) / m

    dA_prev, dW, db = linear_backward(dZ, (A, W, b))
    assert (dA_prev.shape, dW.shape, db.shape) == (A.shape, W.shape, b.shape)
    assert rel_error(dW, numerical_gradient(J, W)) < 1e-7
    assert rel_error(db, numerical_gradient(J, b)) < 1e-7
    assert rel_error(dA_prev, m * numerical_gradient(J, A)) < 1e-7


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid", "linear",
                                        "softmax"])
def test_linear_activation_pair_matches_finite_differences(activation):
    A_prev, W, b = _layer(3, 4, 5, seed=2)
    dA = np.random.default_rng(3).standard_normal((3, 5))
    A, cache = linear_activation_forward(A_prev, W, b, activation)
    (cached_A, cached_W, cached_b), Z = cache
    assert cached_A is A_prev and cached_W is W and cached_b is b
    np.testing.assert_array_equal(A, ACTIVATIONS[activation][0](Z)[0])
    if activation in ("relu", "leaky_relu"):
        assert np.abs(Z).min() > 1e-4  # no kink within the difference's reach

    def J():
        return np.sum(dA * linear_activation_forward(A_prev, W, b, activation)[0]) / 5

    dA_prev, dW, db = linear_activation_backward(dA, cache, activation)
    assert rel_error(dW, numerical_gradient(J, W)) < 1e-7
    assert rel_error(db, numerical_gradient(J, b)) < 1e-7
    assert rel_error(dA_prev, 5 * numerical_gradient(J, A_prev)) < 1e-7


def test_backward_never_modifies_its_inputs():
    A_prev, W, b = _layer(3, 4, 5, seed=4)
    _, cache = linear_activation_forward(A_prev, W, b, "relu")
    dA = np.random.default_rng(5).standard_normal((3, 5))
    before = [x.copy() for x in (dA, A_prev, W, b, cache[1])]
    linear_activation_backward(dA, cache, "relu")
    for x, x0 in zip((dA, A_prev, W, b, cache[1]), before, strict=True):
        np.testing.assert_array_equal(x, x0)


@pytest.mark.parametrize("keep_prob", [0.5, 0.8])
def test_dropout_forward_keeps_units_with_keep_prob_and_scales_them(keep_prob):
    A = np.random.default_rng(6).uniform(0.5, 1.5, size=(100, 200))
    A_dropped, D = dropout_forward(A, keep_prob, np.random.default_rng(7))
    assert D.shape == A.shape and D.dtype == np.float64
    assert set(np.unique(D)) == {0.0, 1.0}
    np.testing.assert_array_equal(A_dropped, A * D / keep_prob)
    # 20 000 Bernoulli(keep_prob) draws: the mean's std is at most 0.0036; ±0.02 is > 5 sigma
    assert abs(D.mean() - keep_prob) < 0.02
    # seeded: the same generator seed draws the same mask
    np.testing.assert_array_equal(dropout_forward(A, keep_prob, np.random.default_rng(7))[1], D)


def test_dropout_backward_is_the_gradient_of_the_masked_layer():
    rng = np.random.default_rng(8)
    A, dA = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    _, D = dropout_forward(A, 0.7, np.random.default_rng(9))

    def J():
        return np.sum(dA * A * D / 0.7)

    assert rel_error(dropout_backward(dA, D, 0.7), numerical_gradient(J, A)) < 1e-7
    np.testing.assert_array_equal(dropout_backward(dA, D, 0.7)[D == 0], 0.0)
