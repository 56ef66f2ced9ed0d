"""Weight initializations.  W[l]: (n_l, n_{l-1}); b[l]: (n_l, 1) is always zeros.

`rng` is a np.random.Generator, or the np.random module itself: the course's
functions draw from the global state, and np.random.standard_normal(shape)
gives the same numbers as the course's np.random.randn(*shape).
"""

import numpy as np


def course_weights(rng, n, n_prev):
    """randn * 0.01, as the course: small, so tanh/sigmoid start unsaturated."""
    return rng.standard_normal((n, n_prev)) * 0.01


def he_weights(rng, n, n_prev):
    """randn * sqrt(2 / n_prev): keeps the variance of ReLU activations steady."""
    return rng.standard_normal((n, n_prev)) * np.sqrt(2.0 / n_prev)


def xavier_weights(rng, n, n_prev):
    """randn * sqrt(1 / n_prev), the course's "Xavier" for tanh."""
    return rng.standard_normal((n, n_prev)) * np.sqrt(1.0 / n_prev)


def zeros_weights(rng, n, n_prev):
    """All zeros: every unit of a layer stays identical (the symmetry problem)."""
    return np.zeros((n, n_prev))


def uniform_weights(rng, n, n_prev):
    """U(-r, r) with r = sqrt(6 / (n_prev + n)), Glorot's uniform."""
    limit = np.sqrt(6.0 / (n_prev + n))
    return rng.uniform(-limit, limit, size=(n, n_prev))


INITS = {
    "course": course_weights,
    "he": he_weights,
    "xavier": xavier_weights,
    "zeros": zeros_weights,
    "uniform": uniform_weights,
}


def initialize_parameters(layer_dims, init="course", rng=np.random):
    """{"W1", "b1", ..., "WL", "bL"} for layer_dims = [n_x, n_1, ..., n_L]."""
    weights = INITS[init]
    parameters = {}
    for l in range(1, len(layer_dims)):
        n, n_prev = layer_dims[l], layer_dims[l - 1]
        parameters[f"W{l}"] = weights(rng, n, n_prev)
        parameters[f"b{l}"] = np.zeros((n, 1))
    return parameters
