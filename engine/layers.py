"""One layer, forward and backward, as the course writes it (cs231n's layers.py pattern).

linear_cache = (A_prev, W, b); activation_cache = Z; cache = (linear_cache, Z).
Examples are columns: A_prev: (n_prev, m), W: (n, n_prev), b: (n, 1), Z and A: (n, m).
Training runs a faster variant of the same maths, tested equal: engine.fast_step.
"""

import numpy as np

from engine.activations import activation_backward, activation_forward


def linear_forward(A, W, b):
    """Z = W A + b, A being A_prev.  A: (n_prev, m), W: (n, n_prev), b: (n, 1) -> Z: (n, m).

    The parameter is called A, as in the course's exercise.  cache = (A, W, b).
    """
    Z = np.dot(W, A) + b
    return Z, (A, W, b)


def linear_backward(dZ, cache):
    """dW = (1/m) dZ A_prevᵀ, db = (1/m) Σᵢ dZ, dA_prev = Wᵀ dZ.

    dZ: (n, m); cache = (A_prev, W, b).  Returns dA_prev: (n_prev, m), dW: (n, n_prev),
    db: (n, 1).
    """
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def linear_activation_forward(A_prev, W, b, activation):
    """A = g(W A_prev + b).  A_prev: (n_prev, m), W: (n, n_prev), b: (n, 1), activation: a
    name ("relu", "sigmoid", …).  Returns A: (n, m) and cache = ((A_prev, W, b), Z), Z: (n, m).
    """
    Z, linear_cache = linear_forward(A_prev, W, b)
    A, activation_cache = activation_forward(activation, Z)
    return A, (linear_cache, activation_cache)


def linear_activation_backward(dA, cache, activation):
    """dZ = dA ⊙ g'(Z), then the linear backward.  dA: (n, m); cache = ((A_prev, W, b), Z).
    Returns dA_prev: (n_prev, m), dW: (n, n_prev), db: (n, 1)."""
    linear_cache, Z = cache
    dZ = activation_backward(activation, dA, Z)
    return linear_backward(dZ, linear_cache)


def dropout_forward(A, keep_prob, rng):
    """Inverted dropout of a hidden layer's A: (n, m).  Returns A ⊙ D / keep_prob and the
    0/1 mask D: (n, m), each unit kept with probability keep_prob (rng: a Generator)."""
    D = (rng.random(A.shape) < keep_prob).astype(float)
    return A * D / keep_prob, D


def dropout_backward(dA, D, keep_prob):
    """The gradient passes only through the kept units, scaled as forward: dA ⊙ D / keep_prob."""
    return dA * D / keep_prob
