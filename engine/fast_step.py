"""The training step's fast path: the maths of engine.layers and engine.model, in fewer
passes and with fewer allocations.

Training and replay both take this path (engine.step), so a replayed step is the same
sequence of floating-point operations as the step it replays, hence bit-identical; the
one exception is a diverged step's ReLU dZ, which a replay takes the course's way where dA
is not finite (relu_derivative_into), and which training throws away. The
course's plain functions compute the same numbers in the course's way, and
tests/test_fast_step.py holds the two equal on every tensor of a step (relative
difference ≤ 1e-12).

What it does differently, and why:
- A row of ones. X and every hidden A[l] sit above a row of ones, [A; 1], so that
  Z = W A + b is one matrix product, [W b]·[A; 1], while W has fewer entries than Z:
  NumPy adds a broadcast column b at about a third of the speed of a plain add. The
  caches hold A[l-1] without its row (views). A run builds its examples' [X; 1] once
  (examples_with_ones); the course's Dataset holds X as the course has it.
- Buffers. Z[l], A[l], dZ[l], dA[l], dW[l], db[l] and θ_{t+1} are written into arrays
  that the caller hands in (`out`, `Buffers`: a training run's buffers and dθ, whose
  W/b views are the gradients), so a step allocates little and the statistics reduce a
  group of steps' tensors at once.
- A fused output gradient. For sigmoid + BCE and softmax + CCE, dZ[L] = A[L] − Y: σ' and
  the softmax Jacobian cancel the 1/a terms of dA[L] exactly. dA[L] is then not computed
  (a step record recomputes it, engine.records), and dZ[L] stays exact when a saturates.
- No dA[0]: nothing below X needs it.
- The softmax + CCE cost logs only each example's own output when Y is one-hot (m logs,
  not n_y·m).
"""

from dataclasses import replace
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from engine.activations import LEAKY_SLOPE, activation_backward, relu_backward
from engine.losses import (
    FUSED,
    LOG_TINY,
    cce_of_log_softmax,
    compute_loss,
    loss_backward,
)


class GradientOut(NamedTuple):
    """Where backward() writes: dW[l] and db[l] into views of dθ ({"W1": …, "b1": …}), and
    dZ[l] and dA[l] into buffers (lists of (n_l, m), dA[L] None where training leaves it
    out), or into new arrays (None)."""

    params: dict
    dZ: list | None = None
    dA: list | None = None


class Buffers(NamedTuple):
    """Arrays a training step writes into instead of allocating its own (the numbers
    are the same): the forward's (Z[l], A[l]) per layer (a hidden A[l] above a row of
    ones, as forward() takes it), dθ, the backward's GradientOut (dθ's W/b views, dZ[l]
    and dA[l]), and θ_{t+1} with its W/b views, which the next step takes as its
    parameters."""

    out: list
    g: np.ndarray
    grads: GradientOut
    theta: np.ndarray
    params: dict


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


class ExamplesWithOnes(NamedTuple):
    """A Dataset's X_train and X_test with a row of ones below, as forward() and the
    scorers (engine.scores) take them: (n_x + 1, m_train) and (n_x + 1, m_test)."""

    train: np.ndarray
    test: np.ndarray


def examples_with_ones(data):
    """(data, ExamplesWithOnes): a run's [X; 1], built once, and its Dataset again with
    X_train and X_test as views of them, so that the run holds its examples once."""
    ones = ExamplesWithOnes(with_ones(data.X_train), with_ones(data.X_test))
    return replace(data, X_train=ones.train[:-1], X_test=ones.test[:-1]), ones


def affine_forward(A_ones, W, b, out=None):
    """Z = W A + b.  A_ones: (n_prev + 1, m), A with a row of ones below (with_ones);
    W: (n, n_prev); b: (n, 1) -> Z: (n, m).  out: a buffer for Z.  Stacks of them
    work too: (..., n, n_prev) and so on.

    While W has fewer entries than Z (n_prev < m), copying W and b into one matrix and
    letting the product add b, Z = [W b]·[A; 1], is cheaper than adding b.
    """
    if A_ones.shape[-2] <= A_ones.shape[-1]:
        return np.matmul(np.concatenate((W, b), axis=-1), A_ones, out=out)
    Z = np.matmul(W, A_ones[..., :-1, :], out=out)
    Z += b
    return Z


def _sigmoid_into(Z, out):
    # for Z < -709, e^-Z overflows to inf and A to the correct limit 0. Not in an
    # np.errstate, which costs as much as the rest for a small Z: a training run, its
    # replays and its scores run under one (engine.run, engine.checkpoints, engine.series)
    E = np.exp(-Z)
    E += 1.0
    return np.divide(1.0, E, out=out)


def _linear_into(Z, out):
    if out is None:
        return Z.copy()
    np.copyto(out, Z)
    return out


def _softmax_into(Z, out):
    # axis -2, the units: stacks (T, n, m) of several θs normalize each column too
    E = np.subtract(Z, Z.max(axis=-2, keepdims=True), out=out)
    np.exp(E, out=E)
    E /= E.sum(axis=-2, keepdims=True)
    return E


# name -> g(Z, out): engine.activations' forwards, writing A into out (a new array if None)
ACTIVATE = {
    "relu": lambda Z, out: np.maximum(Z, 0.0, out=out),
    "leaky_relu": lambda Z, out: np.maximum(Z, LEAKY_SLOPE * Z, out=out),
    "tanh": lambda Z, out: np.tanh(Z, out=out),
    "sigmoid": _sigmoid_into,
    "linear": _linear_into,
    "softmax": _softmax_into,
}


def activate(name, Z, out=None):
    """A = g(Z) for the named activation, written into out if given.  Z: (..., n, m)."""
    return ACTIVATE[name](Z, out)


def _dropout_in_place(A, keep_prob, rng):
    """Inverted dropout on a hidden A that this step owns: A ⊙ D / keep_prob.  Returns D."""
    D = (rng.random(A.shape) < keep_prob).astype(A.dtype)
    A *= D
    A /= keep_prob
    return D


def forward(X_ones, params, activations, keep_prob=1.0, rng=None, out=None):
    """engine.model.model_forward on [X; 1].  Returns AL, caches and masks as it does.

    X_ones: (n_x + 1, m), X with a row of ones below (with_ones).  Each hidden A[l] is
    written above a row of ones too; the caches hold A[l-1] without it.
    out: buffers (Z[l], A[l]) per layer to write into, or None; a hidden layer's A
    buffer is (n_l + 1, m), its last row ones (ones_below).
    """
    A_ones, caches, masks = X_ones, [], []
    L = len(activations)
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        Z_out, A_out = out[l - 1] if out else (None, None)
        Z = affine_forward(A_ones, W, b, Z_out)
        caches.append(((A_ones[:-1], W, b), Z))
        if l < L:
            A_ones = ones_below(Z.shape) if A_out is None else A_out
            A = activate(activations[l - 1], Z, A_ones[:-1])
            masks.append(_dropout_in_place(A, keep_prob, rng) if keep_prob < 1.0 else None)
    masks.append(None)
    return activate(activations[-1], Z, A_out), caches, masks


def network_output(X, params, activations):
    """AL: (n_y, k) at the points X: (n_x, k), by forward() without dropout (the boundary's
    grid, a unit's map): the training path's numbers, for θ of one step."""
    return forward(with_ones(X), params, activations)[0]


def stacked_outputs(X_ones, params, activations):
    """AL for a stack of T parameter sets at once, without dropout (scoring whole sets at
    many steps, engine.scores).  X_ones: (n_x + 1, m), [X; 1]; params: {"W1": (T, n_1,
    n_x), "b1": (T, n_1, 1), ...} (ParamLayout.stacked_views) -> (T, n_y, m).  Unlike
    forward(), it keeps no caches: a layer's input goes once its output is made."""
    A_ones, L = X_ones, len(activations)
    for l in range(1, L + 1):
        Z = affine_forward(A_ones, params[f"W{l}"], params[f"b{l}"])
        if l == L:
            return activate(activations[l - 1], Z, out=Z)  # Z is not kept
        A_ones = ones_below(Z.shape)
        activate(activations[l - 1], Z, out=A_ones[..., :-1, :])


def mean_loss(loss, activation, AL, Y, Z, labels=None):
    """losses.compute_loss; labels: each column's class when Y is one-hot
    (losses.one_hot_labels), or None.  With them, softmax + CCE logs only y's outputs."""
    if labels is None or (activation, loss) != ("softmax", "categorical_cross_entropy"):
        return compute_loss(loss, activation, AL, Y, Z)
    m = Z.shape[1]
    own = AL[labels, _columns(m)]  # y's a: (m,)
    # every a > 0 (a NaN fails too): no log(0), so no np.errstate, which costs as much as
    # the rest; then each log a is finite and ≤ 0, and so is J
    if own.min() > 0.0:
        log_A = np.log(own)
        if log_A.min() > LOG_TINY:
            return float(-log_A.sum() / m)
    return float(cce_of_log_softmax(Y, Z))


@lru_cache(maxsize=64)
def _columns(m):
    """0, 1, ..., m - 1: the column of each example (read-only: shared)."""
    columns = np.arange(m)
    columns.flags.writeable = False
    return columns


def _into(out, X):
    """X, or X copied into out if out is given."""
    if out is None:
        return X
    np.copyto(out, X)
    return out


def relu_derivative_into(dA, Z, out):
    """dZ = dA ⊙ [Z > 0], written into out (None: a new array): a 0/1 mask multiplies about
    twice as fast as engine.activations.relu_backward (the course's copy of dA, zeroed where
    Z ≤ 0) and gives the same numbers wherever dA is finite, up to the sign of a zero.

    Where dA is ±inf or NaN (a diverged step) the two differ: inf·0 is NaN, where the course
    and autograd give 0.  A replay, which serves the records (out None: no buffers), checks
    dA and takes the course's there; training writes into buffers and does not check: it
    throws the diverged step's numbers away and replays it.  (Where Z is NaN the course
    gives dA and the mask 0; dA is NaN there already: a NaN in Z reaches the output.)"""
    if out is not None:
        return np.multiply(dA, (Z > 0).astype(dA.dtype), out=out)
    if not np.isfinite(dA).all():
        return relu_backward(dA, Z)
    return dA * (Z > 0).astype(dA.dtype)  # (the product reuses the mask's memory)


# name -> dZ = g'(Z) ⊙ dA written into out: engine.activations' backward, the same
# operations in the same order (so the same numbers, bit for bit), the last one into out;
# ReLU's, a faster form, whether out is given or not (relu_derivative_into)
DERIVATIVE_INTO = {
    "relu": relu_derivative_into,
    # dA·1 is dA and dA·0.01 is 0.01·dA, exactly: np.where's choice, without a copy
    "leaky_relu": lambda dA, Z, out: np.multiply(dA, np.where(Z > 0, 1.0, LEAKY_SLOPE), out=out),
    "tanh": lambda dA, Z, out: _tanh_derivative_into(dA, np.tanh(Z), out),
    "sigmoid": lambda dA, Z, out: _sigmoid_derivative_into(dA, _sigmoid_into(Z, None), out),
    "linear": lambda dA, Z, out: _linear_into(dA, out),
}


def _tanh_derivative_into(dA, A, out):
    return np.multiply(dA, 1.0 - A * A, out=out)


def _sigmoid_derivative_into(dA, s, out):
    return np.multiply(dA * s, 1.0 - s, out=out)


def _derivative_into(name, dA, Z, out):
    """dZ = g'(Z) ⊙ dA of activation name, written into out (None: a new array):
    DERIVATIVE_INTO's where out is given, and ReLU's always (relu_derivative_into);
    otherwise engine.activations' backward (softmax, an output's only, with a copy)."""
    if name == "relu" or (out is not None and name in DERIVATIVE_INTO):
        return DERIVATIVE_INTO[name](dA, Z, out)
    return _into(out, activation_backward(name, dA, Z))


def output_gradient(loss, activation, AL, Y, Z, out=(None, None)):
    """dA[L] and dZ[L], per example: (n_y, m) each.  For the fused pairs dZ = A - Y and
    dA[L] is None (not computed); otherwise dZ = g'(Z) ⊙ dA[L], as in engine.model.
    out: buffers (dA[L], dZ[L]) to write into, or None each."""
    dA_out, dZ_out = out
    if (activation, loss) in FUSED:
        return None, np.subtract(AL, Y, out=dZ_out)
    dA = _into(dA_out, loss_backward(loss, AL, Y))
    return dA, _derivative_into(activation, dA, Z, dZ_out)


def backward(dZ, caches, activations, masks, keep_prob, out):
    """engine.model.model_backward from dZ[L] (output_gradient), without dA[0] and dA[L].

    out: a GradientOut, where dW[l] and db[l] are written (views of dθ) and dZ[l] and
    dA[l] too, if it has buffers for them.  Returns {"dA{l}" (l < L), "dZ{l}", "dW{l}",
    "db{l}"}.
    """
    grads, m = {}, dZ.shape[1]
    for l in range(len(caches), 0, -1):
        (A_prev, W, _), _ = caches[l - 1]
        dW, db = out.params[f"W{l}"], out.params[f"b{l}"]
        # dW = (1/m) dZ A_prevᵀ and db = (1/m) Σᵢ dZ, into dθ's views
        np.divide(np.matmul(dZ, A_prev.T, out=dW), m, out=dW)
        np.divide(np.add.reduce(dZ, axis=1, keepdims=True, out=db), m, out=db)
        grads[f"dZ{l}"], grads[f"dW{l}"], grads[f"db{l}"] = dZ, dW, db
        if l > 1:
            dA_out, dZ_out = (None, None) if out.dZ is None else (out.dA[l - 2], out.dZ[l - 2])
            dA = grads[f"dA{l - 1}"] = np.matmul(W.T, dZ, out=dA_out)
            D, Z = masks[l - 2], caches[l - 2][1]
            # dropout passes the gradient only through kept units, scaled as forward
            dZ = _derivative_into(activations[l - 2], dA if D is None else dA * D / keep_prob,
                                  Z, dZ_out)
    return grads


def add_l2(grads, params, l2, m):
    """dW[l] += (λ/m) W[l] for every layer, in place: dW[l] are views of dθ."""
    for l in range(1, len(params) // 2 + 1):
        grads[f"dW{l}"] += (l2 / m) * params[f"W{l}"]
