"""The course's step-by-step API, read as the course writes it.

Names, signatures, cache layouts and gradient keys follow the classic
"Building your Deep Neural Network: Step by Step" exercise:
linear_cache = (A_prev, W, b), activation_cache = Z, cache = (linear_cache, Z).
The layer functions are engine.layers' own, and the whole-network ones are
engine.model's with the course's activations: ReLU hidden layers, a sigmoid output.
The init functions draw from np.random's global state, as the course does.
"""

import numpy as np

from engine import initializers, losses, model
from engine.activations import relu, relu_backward, sigmoid, sigmoid_backward
from engine.layers import (
    linear_activation_backward,
    linear_activation_forward,
    linear_backward,
    linear_forward,
)

__all__ = [
    "L_model_backward",
    "L_model_forward",
    "compute_cost",
    "initialize_parameters",
    "initialize_parameters_deep",
    "linear_activation_backward",
    "linear_activation_forward",
    "linear_backward",
    "linear_forward",
    "relu",
    "relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "update_parameters",
]


def initialize_parameters(n_x, n_h, n_y):
    """W1: (n_h, n_x), b1: (n_h, 1), W2: (n_y, n_h), b2: (n_y, 1); W = randn * 0.01."""
    return initializers.initialize_parameters([n_x, n_h, n_y], "course", np.random)


def initialize_parameters_deep(layer_dims):
    """W[l]: (layer_dims[l], layer_dims[l-1]) = randn * 0.01, b[l] zeros."""
    return initializers.initialize_parameters(layer_dims, "course", np.random)


def _course_activations(L):
    """ReLU for the L-1 hidden layers, sigmoid for the output."""
    return ["relu"] * (L - 1) + ["sigmoid"]


def L_model_forward(X, parameters):
    """[LINEAR->RELU]*(L-1) -> LINEAR->SIGMOID.  X: (n_x, m).  Returns AL: (1, m) and the
    L caches."""
    AL, caches, _ = model.model_forward(X, parameters, _course_activations(len(parameters) // 2))
    return AL, caches


def compute_cost(AL, Y):
    """Binary cross-entropy -(1/m) Σ [y log a + (1-y) log(1-a)], as a 0-d float.
    AL, Y: (1, m)."""
    return np.float64(losses.binary_cross_entropy(AL, Y))


def L_model_backward(AL, Y, caches):
    """Returns grads with keys "dA{l-1}", "dW{l}", "db{l}" for l = 1..L.  AL, Y: (1, m);
    caches: L of ((A_prev, W, b), Z).  grads["dA{l-1}"] has A[l-1]'s shape, grads["dW{l}"]
    and grads["db{l}"] those of W[l] and b[l].

    As the course: dAL = -(Y/AL - (1-Y)/(1-AL)), then sigmoid_backward(dAL, Z[L]),
    so the Z in the last cache counts even when AL is not sigmoid(Z) (the course's
    test case draws both at random).
    """
    L = len(caches)
    dAL = losses.binary_cross_entropy_backward(AL, Y)
    grads = model.model_backward(dAL, caches, _course_activations(L))
    keys = [f"{name}{l}" for l in range(1, L + 1) for name in ("dW", "db")]
    keys += [f"dA{l - 1}" for l in range(1, L + 1)]
    return {k: grads[k] for k in keys}


def update_parameters(parameters, grads, learning_rate):
    """W[l] = W[l] - α dW[l], b[l] = b[l] - α db[l]; returns new arrays, of the shapes of
    parameters' (W{l}: (n_l, n_{l-1}), b{l}: (n_l, 1))."""
    return {k: p - learning_rate * grads[f"d{k}"] for k, p in parameters.items()}
