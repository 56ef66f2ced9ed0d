"""Activations in forward/backward pairs, in the course's notation.

Each forward takes `Z: (n, m)` and returns `(A, Z)`; the returned `Z` is the
activation cache. Each backward takes `(dA, Z)` and returns `dZ = dA ⊙ g'(Z)`.
(The training path writes A into buffers instead: engine.fast_step.activate.)
"""

import numpy as np


def relu(Z):
    """A = max(0, Z)."""
    return np.maximum(Z, 0.0), Z


def relu_backward(dA, Z):
    """dZ = dA where Z > 0, else 0 (relu'(0) = 0), as the course writes it: 0 even where dA
    is ±inf, and dA where Z is NaN, as autograd's ReLU gives too. A dA of another shape
    than Z raises IndexError, as the course's does (`backprop-lens check` relies on that).
    (Training multiplies by a 0/1 mask instead, faster: fast_step.relu_derivative_into.)"""
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


LEAKY_SLOPE = 0.01


def leaky_relu(Z):
    """A = Z for Z > 0, 0.01 Z otherwise (= max(Z, 0.01 Z) since the slope is < 1)."""
    return np.maximum(Z, LEAKY_SLOPE * Z), Z


def leaky_relu_backward(dA, Z):
    """dZ = dA ⊙ (1 if Z > 0 else 0.01)."""
    return np.where(Z > 0, dA, LEAKY_SLOPE * dA)


def tanh(Z):
    """A = tanh(Z)."""
    return np.tanh(Z), Z


def tanh_backward(dA, Z):
    """dZ = dA ⊙ (1 - tanh(Z)²)."""
    A = np.tanh(Z)
    return dA * (1.0 - A * A)


def sigmoid(Z):
    """A = 1 / (1 + e^-Z)."""
    # for Z < -709, e^-Z overflows to inf and A to the correct limit 0
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-Z)), Z


def sigmoid_backward(dA, Z):
    """dZ = dA ⊙ s (1 - s) with s = sigmoid(Z)."""
    s = sigmoid(Z)[0]
    return dA * s * (1.0 - s)


# the activation "linear" is the identity; its functions are not named linear_*, which
# are the course's names for a layer's linear step (engine.layers.linear_forward: Z = W A + b)
def identity(Z):
    """A = Z (the "linear" activation, for regression outputs)."""
    return Z.copy(), Z


def identity_backward(dA, Z):
    """dZ = dA: g'(Z) = 1."""
    return dA.copy()


def softmax(Z):
    """A = e^Z / Σ e^Z over each column, shifted by the column max for stability."""
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True), Z


def softmax_backward(dA, Z):
    """dZ = A ⊙ (dA - Σₖ dAₖ Aₖ): the softmax Jacobian applied to each column."""
    A = softmax(Z)[0]
    return A * (dA - np.sum(dA * A, axis=0, keepdims=True))


# name -> (forward, backward); softmax mixes units, so it is for the output layer only
ACTIVATIONS = {
    "relu": (relu, relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "tanh": (tanh, tanh_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "linear": (identity, identity_backward),
    "softmax": (softmax, softmax_backward),
}
OUTPUT_ONLY = {"softmax"}


def _pair(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: unknown name {name!r}; choose one of "
                         f"{', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def activation_forward(name, Z):
    """Apply the named activation: returns (A, Z)."""
    return _pair(name)[0](Z)


def activation_backward(name, dA, Z):
    """Backward of the named activation: returns dZ."""
    return _pair(name)[1](dA, Z)
