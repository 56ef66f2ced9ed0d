"""The whole network, forward and backward, built from the layer pairs as the course builds
L_model_forward and L_model_backward, generalised to any activation per layer, dropout and L2.

X: (n_x, m); Y: (n_y, m); caches[l-1] = ((A[l-1], W[l], b[l]), Z[l]) for l = 1..L.
Training runs a faster variant of the same maths, tested equal: engine.fast_step.
"""

import numpy as np

from engine.activations import activation_backward
from engine.layers import (
    dropout_backward,
    dropout_forward,
    linear_activation_forward,
    linear_backward,
)


def model_forward(X, parameters, activations, keep_prob=1.0, rng=None):
    """[LINEAR -> g[l]] for l = 1..L.  Returns AL: (n_y, m), the L caches, and the
    dropout masks: masks[l-1] is D[l], or None (the output layer, or no dropout).

    With keep_prob < 1, each hidden A[l] is multiplied by its mask and divided by
    keep_prob (inverted dropout, masks drawn from rng), so the next layer sees that A[l].
    """
    A, caches, masks = X, [], []
    L = len(activations)
    for l in range(1, L + 1):
        A, cache = linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"],
                                             activations[l - 1])
        caches.append(cache)
        D = None
        if l < L and keep_prob < 1.0:
            A, D = dropout_forward(A, keep_prob, rng)
        masks.append(D)
    return A, caches, masks


def model_backward(dAL, caches, activations, masks=None, keep_prob=1.0):
    """Gradients of every layer from dA[L] (losses.loss_backward), the course's scaling.

    dAL: (n_y, m); caches: L of ((A_prev, W, b), Z); masks[l-1]: D[l] or None.
    Returns {"dA{l}", "dZ{l}", "dW{l}", "db{l}"} for l = 1..L, and "dA0" (∂ with
    respect to X): dA[l] and dZ[l] of A[l]'s shape (n_l, m), dW[l] and db[l] of W[l]'s
    and b[l]'s.  dA[l] is the gradient of A[l] as the next layer saw it; with
    dropout, dZ[l] = g'(Z[l]) ⊙ dA[l] ⊙ D[l] / keep_prob.
    """
    grads, dA = {}, dAL
    for l in range(len(caches), 0, -1):
        linear_cache, Z = caches[l - 1]
        grads[f"dA{l}"] = dA
        D = None if masks is None else masks[l - 1]
        if D is not None:
            dA = dropout_backward(dA, D, keep_prob)
        dZ = grads[f"dZ{l}"] = activation_backward(activations[l - 1], dA, Z)
        dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_backward(dZ, linear_cache)
    grads["dA0"] = dA
    return grads


def l2_cost(parameters, L, l2, m):
    """(λ/2m) Σ_l ‖W[l]‖², a float; parameters hold W1..WL, m is the batch's size."""
    if not l2:
        return 0.0
    return l2 / (2.0 * m) * sum(float(np.sum(parameters[f"W{l}"] ** 2)) for l in range(1, L + 1))


def l2_gradients(grads, parameters, l2, m):
    """grads with (λ/m) W[l] added to every dW[l]: (n_l, n_{l-1}), as L2 adds it; a new
    dict."""
    L = sum(1 for key in grads if key.startswith("dW"))
    return {**grads, **{f"dW{l}": grads[f"dW{l}"] + (l2 / m) * parameters[f"W{l}"]
                        for l in range(1, L + 1)}}
