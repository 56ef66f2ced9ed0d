"""The whole network, forward and backward, built from the layer pairs.

X: (n_x, m); Y: (n_y, m); caches[l-1] = ((A[l-1], W[l], b[l]), Z[l]) for l = 1..L.
"""

import numpy as np

from engine.activations import activation_backward, activation_forward
from engine.layers import affine_forward, linear_backward, ones_below
from engine.losses import output_gradients


def model_forward(X_ones, parameters, activations, keep_prob=1.0, rng=None, out=None):
    """Forward through all layers.  Returns AL, caches and the dropout masks D[l].

    X_ones: (n_x + 1, m), the examples X with a row of ones below (layers.with_ones).
    Each hidden A[l] is written above a row of ones too, so that every layer's
    W A + b is one matrix product (layers.affine_forward); the caches hold A[l-1]
    without it.
    With keep_prob < 1, each hidden A[l] is multiplied by its 0/1 mask D[l] and
    divided by keep_prob (inverted dropout), so the next layer sees that A[l].
    masks[l-1] is None for the output layer and when dropout is off.
    out: buffers (Z[l], A[l]) per layer to write into, or None; a hidden layer's A
    buffer is (n_l + 1, m), its last row ones (layers.ones_below).
    """
    A_ones, caches, masks = X_ones, [], []
    L = len(activations)
    for l in range(1, L + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        Z_out, A_out = out[l - 1] if out else (None, None)
        Z = affine_forward(A_ones, W, b, Z_out)
        caches.append(((A_ones[:-1], W, b), Z))
        if l == L:
            A = activation_forward(activations[l - 1], Z, A_out)[0]
            masks.append(None)
            break
        A_ones = ones_below(Z.shape) if A_out is None else A_out
        A = activation_forward(activations[l - 1], Z, A_ones[:-1])[0]
        D = None
        if keep_prob < 1.0:
            D = (rng.random(A.shape) < keep_prob).astype(A.dtype)
            A *= D  # A is this layer's own array: (A * D) / keep_prob, in place
            A /= keep_prob
        masks.append(D)
    return A, caches, masks


def model_backward(AL, Y, caches, activations, loss, masks=None, keep_prob=1.0, l2=0.0,
                   need_dA0=False, grad_out=None, need_dAL=True, fused=True):
    """Gradients of every layer, the course's scaling.

    Returns {"dA{l}", "dZ{l}", "dW{l}", "db{l}"} for l = 1..L, plus "dA0" only when
    need_dA0 (the gradient with respect to X, which training never needs).
    grad_out: {"W1": buffer, "b1": buffer, ...} to write dW and db into, or None.
    need_dAL False leaves "dA{L}" None where dZ[L] does not need it (sigmoid+BCE,
    softmax+CCE).  fused False takes dZ[L] = g'(Z[L]) ⊙ dA[L] for those pairs too,
    as the course does (engine.losses.output_gradients).
    """
    L, m = len(caches), AL.shape[1]
    dA, dZ = output_gradients(loss, activations[-1], AL, Y, caches[-1][1], need_dAL, fused)
    grads = {}
    for l in range(L, 0, -1):
        linear_cache, Z = caches[l - 1]
        if l < L:
            D = masks[l - 1] if masks is not None else None
            # dropout passes the gradient only through kept units, scaled as forward
            dZ = activation_backward(activations[l - 1], dA if D is None else dA * D / keep_prob, Z)
        grads[f"dA{l}"], grads[f"dZ{l}"] = dA, dZ
        out = None if grad_out is None else (grad_out[f"W{l}"], grad_out[f"b{l}"])
        dA, dW, db = linear_backward(dZ, linear_cache, out, need_dA_prev=l > 1 or need_dA0)
        if l2:
            dW += (l2 / m) * linear_cache[1]
        grads[f"dW{l}"], grads[f"db{l}"] = dW, db
    if need_dA0:
        grads["dA0"] = dA
    return grads


def l2_cost(parameters, L, l2, m):
    """(λ/2m) Σ_l ‖W[l]‖²."""
    if not l2:
        return 0.0
    return l2 / (2.0 * m) * sum(float(np.sum(parameters[f"W{l}"] ** 2)) for l in range(1, L + 1))
