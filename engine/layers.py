"""One layer, forward and backward, with the course's caches.

linear_cache = (A_prev, W, b); activation_cache = Z; cache = (linear_cache, Z).
linear_backward's optional `out` buffers let a training step write dW and db
straight into its flat gradient vector; the numbers are the same without them.
"""

import numpy as np

from engine.activations import activation_backward, activation_forward


def ones_below(shape):
    """An array for A of this shape (..., n, m) with a row of ones below it:
    (..., n + 1, m), its last row ones."""
    *stack, n, m = shape
    A_ones = np.empty((*stack, n + 1, m))
    A_ones[..., -1, :] = 1.0
    return A_ones


def with_ones(A):
    """[A; 1]: A (..., n, m) with a row of ones below it, (..., n + 1, m)."""
    A_ones = ones_below(A.shape)
    A_ones[..., :-1, :] = A
    return A_ones


def affine_forward(A_ones, W, b, out=None):
    """Z = W A + b.  A_ones: (n_prev + 1, m), A with a row of ones below (with_ones);
    W: (n, n_prev); b: (n, 1) -> Z: (n, m).  out: a buffer for Z.  Stacks of them
    work too: (..., n, n_prev) and so on.

    NumPy adds a broadcast column b at about a third of the speed of a plain add, so
    while W has fewer entries than Z (n_prev < m) it is cheaper to copy W and b into
    one matrix and let the product add b: Z = [W b]·[A; 1].
    """
    if A_ones.shape[-2] <= A_ones.shape[-1]:
        return np.matmul(np.concatenate((W, b), axis=-1), A_ones, out=out)
    Z = np.matmul(W, A_ones[..., :-1, :], out=out)
    Z += b
    return Z


def linear_forward(A, W, b, out=None):
    """Z = W A + b, A being A_prev.  A: (n_prev, m), W: (n, n_prev), b: (n, 1) -> Z: (n, m).

    The parameter is called A, as in the course's exercise. out: a buffer for Z.
    """
    return affine_forward(with_ones(A), W, b, out), (A, W, b)


def linear_backward(dZ, cache, out=None, need_dA_prev=True):
    """dW = (1/m) dZ A_prevᵀ, db = (1/m) Σᵢ dZ, dA_prev = Wᵀ dZ.

    dZ: (n, m); cache = (A_prev, W, b); out = (dW, db) buffers or None.
    Returns dA_prev (None unless need_dA_prev), dW: (n, n_prev), db: (n, 1).
    """
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    out_dW, out_db = out or (None, None)
    # divide out of place unless into the caller's buffers: integer inputs work too
    dW = np.divide(np.matmul(dZ, A_prev.T, out=out_dW), m, out=out_dW)
    db = np.divide(np.add.reduce(dZ, axis=1, keepdims=True, out=out_db), m, out=out_db)
    dA_prev = W.T @ dZ if need_dA_prev else None
    return dA_prev, dW, db


def linear_activation_forward(A_prev, W, b, activation, out=None):
    """A = g(W A_prev + b); cache = ((A_prev, W, b), Z).  out: buffers (Z, A) or None."""
    Z_out, A_out = out or (None, None)
    Z, linear_cache = linear_forward(A_prev, W, b, Z_out)
    A, activation_cache = activation_forward(activation, Z, A_out)
    return A, (linear_cache, activation_cache)


def linear_activation_backward(dA, cache, activation):
    """dZ = dA ⊙ g'(Z), then the linear backward.  Returns dA_prev, dW, db."""
    linear_cache, Z = cache
    dZ = activation_backward(activation, dA, Z)
    return linear_backward(dZ, linear_cache)
