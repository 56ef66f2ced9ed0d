"""Tests for engine.layers: Z = W A + b however it is computed, and the [A; 1] helpers."""

import numpy as np
import pytest

from engine.layers import affine_forward, linear_forward, ones_below, with_ones
from engine.model import model_forward


@pytest.mark.parametrize(("n", "n_prev", "m"), [
    (3, 2, 5), (4, 4, 5),  # n_prev < m: one product, [W b]·[A; 1]
    (2, 5, 5), (2, 7, 3), (1, 1, 1), (5, 40, 6),  # else: W A, then + b
])
def test_affine_forward_is_W_A_plus_b(n, n_prev, m):
    rng = np.random.default_rng(n * 100 + n_prev * 10 + m)
    A, W, b = (rng.standard_normal(s) for s in ((n_prev, m), (n, n_prev), (n, 1)))
    Z = affine_forward(with_ones(A), W, b)
    assert Z.shape == (n, m)
    np.testing.assert_allclose(Z, W @ A + b, rtol=1e-13, atol=1e-13)
    out = np.empty((n, m))
    assert affine_forward(with_ones(A), W, b, out) is out
    np.testing.assert_array_equal(out, Z)
    # a stack of two parameter sets on the same A (engine.evaluation's stacked forward)
    Ws, bs = np.stack([W, 2 * W]), np.stack([b, -b])
    np.testing.assert_allclose(affine_forward(with_ones(A), Ws, bs), Ws @ A + bs,
                               rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("m", [1, 2, 4])
def test_affine_forward_is_exact_on_small_integers(m):
    A = np.arange(2 * m, dtype=float).reshape(2, m)
    W, b = np.array([[1.0, -2.0], [3.0, 0.5]]), np.array([[4.0], [-1.0]])
    np.testing.assert_array_equal(affine_forward(with_ones(A), W, b), W @ A + b)


def test_with_ones_puts_a_row_of_ones_below_a_copy():
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    A_ones = with_ones(A)
    np.testing.assert_array_equal(A_ones, [[1, 2, 3], [4, 5, 6], [1, 1, 1]])
    A_ones[0, 0] = 9.0
    assert A[0, 0] == 1.0
    assert ones_below((3, 2)).shape == (4, 2)
    np.testing.assert_array_equal(ones_below((3, 2))[-1], [1.0, 1.0])
    stack = with_ones(np.zeros((2, 3, 4)))  # (T, n, m) stacks: a row of ones per step
    np.testing.assert_array_equal(stack.sum(axis=(1, 2)), [4.0, 4.0])


def test_the_course_linear_forward_gives_the_models_Z_bit_for_bit():
    """Training, replay and engine.course share the same arithmetic for Z."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 7))
    params = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal((4, 1)),
              "W2": rng.standard_normal((9, 4)), "b2": rng.standard_normal((9, 1)),
              "W3": rng.standard_normal((1, 9)), "b3": rng.standard_normal((1, 1))}
    _, caches, _ = model_forward(with_ones(X), params, ["relu", "tanh", "sigmoid"])
    for (A_prev, W, b), Z in caches:
        np.testing.assert_array_equal(linear_forward(A_prev, W, b)[0], Z)
