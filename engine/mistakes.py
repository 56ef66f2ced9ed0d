"""The six classic mistakes of the course's backward pass and update (CONTRACT §7), written
as a learner writes them: engine.model's backward with the one line changed. Each mistake
is marked with its wrong line and the right one.

A run whose config names a `bug` trains with this code (engine.step): its recorded
gradients and updates are the mistaken ones, while its forward pass and cost stay right,
so the gradient check shows the mistake. The output layer goes through dA[L] and g'(Z[L])
as the course's L_model_backward does, never through the engine's fused A - Y.

activation_cache_holds_A: the forum's wrong linear_activation_forward returns
cache = (linear_cache, A), A = g(Z) as the activation gives it, before dropout; backward
then evaluates the "derivative as a function of Z" at A, e.g. sigmoid'(A) = σ(A)(1 - σ(A)).
"""

import numpy as np

from engine.activations import activation_backward, activation_forward
from engine.layers import dropout_backward
from engine.losses import loss_backward
from engine.model import l2_gradients

BUGS = ("activation_cache_holds_A", "missing_1_over_m", "no_activation_derivative",
        "wrong_update_sign", "dropout_mask_forgotten_in_backward", "l2_gradient_missing")
# activations whose g' reads the same at A = g(Z) as at Z: relu'(A) = relu'(Z), ...
SAME_SLOPE_AT_A = ("relu", "leaky_relu", "linear")


def bug_active(config):
    """Whether the config's bug can change any number of its run (a normalized config).
    An inactive bug trains as the bug-free run does."""
    bug = config.get("bug")
    if bug is None:
        return False
    acts = config["activations"]
    dropout = config["keep_prob"] < 1.0 and len(acts) > 1  # dropout acts on hidden layers
    return {
        "activation_cache_holds_A": any(a not in SAME_SLOPE_AT_A for a in acts),
        "missing_1_over_m": config["batch_size"] != 1,
        "no_activation_derivative": any(a != "linear" for a in acts),
        "wrong_update_sign": True,
        "dropout_mask_forgotten_in_backward": dropout,
        "l2_gradient_missing": config["l2"] > 0,
    }[bug]


def activation_cache(bug, activation, Z):
    """What the layer's activation cache holds: Z[l] (with the forum's mistake, A[l] = g(Z[l])
    as the activation returns it, before dropout).  Z: (n, m)."""
    if bug == "activation_cache_holds_A":
        return activation_forward(activation, Z)[0]  # wrong: cache = A; right: cache = Z
    return Z


def activation_step(bug, activation, dA, cached):
    """dZ = g'(Z) ⊙ dA, Z being what the activation cache holds (activation_cache)."""
    if bug == "no_activation_derivative":
        return dA  # wrong: dZ = dA; right: dZ = g'(Z) ⊙ dA
    return activation_backward(activation, dA, cached)


def linear_step(bug, dZ, linear_cache):
    """dA_prev: (n_prev, m), dW: (n, n_prev), db: (n, 1) from dZ: (n, m)."""
    A_prev, W, _ = linear_cache
    m = A_prev.shape[1]
    if bug == "missing_1_over_m":
        dW = dZ @ A_prev.T  # wrong: no 1/m; right: dW = (1/m) dZ A_prevᵀ
        db = np.sum(dZ, axis=1, keepdims=True)  # wrong: no 1/m; right: (1/m) Σ dZ
    else:
        dW = dZ @ A_prev.T / m
        db = np.sum(dZ, axis=1, keepdims=True) / m
    return W.T @ dZ, dW, db


def dropout_step(bug, dA, D, keep_prob):
    """dA ⊙ D / keep_prob: the gradient passes only through the kept units."""
    if D is None or bug == "dropout_mask_forgotten_in_backward":
        return dA  # wrong (with dropout): dA as it is; right: dA * D / keep_prob
    return dropout_backward(dA, D, keep_prob)


def model_backward(bug, dAL, caches, activations, masks, keep_prob):
    """engine.model.model_backward as the mistaken code computes it, from dA[L].
    Returns {"dA{l}", "dZ{l}", "dW{l}", "db{l}"} for l = 1..L, and "dA0"."""
    grads, dA = {}, dAL
    for l in range(len(caches), 0, -1):
        linear_cache, Z = caches[l - 1]
        cached = activation_cache(bug, activations[l - 1], Z)
        grads[f"dA{l}"] = dA
        dA = dropout_step(bug, dA, masks[l - 1], keep_prob)
        dZ = grads[f"dZ{l}"] = activation_step(bug, activations[l - 1], dA, cached)
        dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_step(bug, dZ, linear_cache)
    grads["dA0"] = dA
    return grads


def with_l2(bug, grads, parameters, l2, m):
    """dW[l] + (λ/m) W[l] (missing_1_over_m keeps this term's 1/m: only dZ A_prevᵀ lacks it)."""
    if not l2 or bug == "l2_gradient_missing":
        return grads  # wrong (with l2 > 0): dW as it is; right: dW + (λ/m) W
    return l2_gradients(grads, parameters, l2, m)


def backward(bug, forward, config):
    """The mistaken gradients of a step's Forward (engine.step), from dA[L] as the course
    computes it: {"dA{l}", "dZ{l}", "dW{l}", "db{l}"}, l = 1..L, and "dA0"."""
    acts, m = config["activations"], forward.Y.shape[1]
    dAL = loss_backward(config["loss"], forward.AL, forward.Y)
    grads = model_backward(bug, dAL, forward.caches, acts, forward.masks, config["keep_prob"])
    return with_l2(bug, grads, forward.params, config["l2"], m)


def apply_step(bug, theta, step, out=None):
    """θ_{t+1} = θ_t − step, the optimizer's step (written into out if given)."""
    if bug == "wrong_update_sign":
        return np.add(theta, step, out=out)  # wrong: W = W + α dW; right: W = W − α dW
    return np.subtract(theta, step, out=out)
