"""Statistics of a step's parameters, for a chunk of steps at once: the norms of W, dW,
db and the update, and the EXTREMES (max |·| of W, b, dW and db, and how far apart a
layer's units are). Rows as engine.stats lays them out.

A small θ (up to stats.FEW_PARAMETERS) is stacked, a chunk's θ, dθ and steps in one
array, and reduced in a few calls; a big one takes one BLAS dot per tensor instead,
since memory passes cost more than calls then.
"""

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from engine.stats import EXTREMES, FEW_PARAMETERS, INDEX, NORMS, columns


def _norms(vectors, layout, rows, with_steps):
    """(T, V, 2L) norms per tensor [W1, b1, W2, b2, ...] of T steps' θ, dθ and, with_steps,
    their optimizer's steps (StepVectors), and on the way rows[:, :, EXTREMES] of θ and
    dθ."""
    stacks = vectors[:3] if with_steps else vectors[:2]
    if layout.size > FEW_PARAMETERS:
        for k in range(len(stacks[0])):
            rows[k, :, columns(EXTREMES)] = _big_extremes(stacks[0][k], stacks[1][k], layout)
        return np.array([_segment_norms([stack[k] for stack in stacks], layout)
                         for k in range(len(stacks[0]))])
    pairs = np.stack(stacks[:2], axis=1) if vectors.pairs is None else vectors.pairs
    _extremes(rows[:, :, columns(EXTREMES)], pairs, layout)
    # Σx² per tensor: one dot product along each row of a tensor's segment (BLAS), for
    # every row at once: no θ-sized array of squares
    sums = np.empty((len(pairs), 3 if with_steps else 2, len(layout.cuts)))
    for j, cut in enumerate(layout.cuts):
        np.vecdot(pairs[:, :, cut], pairs[:, :, cut], out=sums[:, :2, j])
        if with_steps:
            np.vecdot(vectors.steps[:, cut], vectors.steps[:, cut], out=sums[:, 2, j])
    norms = np.sqrt(sums, out=sums)
    # Σx² overflowed, or x holds an inf; or Σx² underflowed: measured again, scaled
    for k, v, j in np.argwhere(np.isinf(norms) | _underflowed(norms, pairs, vectors, layout)):
        x = vectors.steps[k] if v == _STEP else pairs[k, v]
        norms[k, v, j] = _scaled_norm(x[layout.cuts[j]])
    return norms


def _underflowed(norms, pairs, vectors, layout):
    """Which norms (T, V, 2L) lost their Σx² below the normal floats: a small positive one,
    or a 0 whose tensor holds a nonzero entry (a tensor of zeros, a zero init's every step,
    keeps its 0 without a pass of its own)."""
    small = (norms > 0) & (norms < UNDERFLOW_NORM)
    zero = norms == 0
    if zero.any():
        for j, cut in enumerate(layout.cuts):
            if not zero[:, :, j].any():
                continue
            zero[:, :2, j] &= np.any(pairs[:, :, cut], axis=2)
            if norms.shape[1] > 2:
                zero[:, 2, j] &= np.any(vectors.steps[:, cut], axis=1)
    return small | zero


def _segment_norms(vectors, layout):
    """(V, 2L) norms from one BLAS dot per tensor: no copies of a big θ."""
    return [[vector_norm(v[cut]) for cut in layout.cuts] for v in vectors]


# below this, Σx² has left the normal floats (entries under about 1e-154, a gradient that
# vanished): it loses digits, or is 0, and the norm is taken again, scaled
UNDERFLOW_NORM = 1e-145


def vector_norm(x):
    """‖x‖ of a 1-D x from one BLAS dot, and scaled where Σx² overflows (finite entries
    past about 1.3e154) or underflows: the summaries' norms, and the gradient check's."""
    norm = np.dot(x, x) ** 0.5
    underflowed = norm < UNDERFLOW_NORM and (norm > 0 or bool(x.any()))
    return _scaled_norm(x) if math.isinf(norm) or underflowed else norm


def _scaled_norm(x):
    """‖x‖ where √Σx² overflows, finite entries beyond about 1.3e154 (a run on its way to
    diverging), or underflows (x holds a nonzero entry: the callers keep a 0 of zeros):
    max |x| · ‖x / max |x|‖; inf if x holds an inf, NaN if a NaN."""
    top = np.abs(x).max()
    if not np.isfinite(top):
        return np.nan if np.isnan(top) else np.inf
    return float(top * np.sqrt(np.dot(x / top, x / top)))


# ‖ΔW‖ is the norm of the optimizer's step, the update it applied: no pass over
# θ_{t+1} − θ_t. That difference, which a step record holds, is −step + δ, where
# rounding θ − step leaves |δ| ≤ u·|θ_{t+1}|; the two norms agree to
# u·‖W_{t+1}‖/‖ΔW‖ ≈ u·(1 + 1/ratio) (relative) at worst, ratio = ‖ΔW‖/‖W‖, and to
# far less for random rounding. Below this ratio the difference itself is measured.
EXACT_UPDATE_RATIO = 1e-6  # so the two agree to about 1e-10 (relative) at worst


_THETA, _GRAD, _STEP = range(3)  # the first three StepVectors, as _norms stacks them


class StepVectors(NamedTuple):
    """The flat vectors (engine.layout) of T consecutive steps, (T, P) each (views of a
    run's chunk buffers, engine.step_buffers, or one step's own arrays): θ_{t+1} = θ_t −
    step."""

    thetas: np.ndarray  # θ_t
    grads: np.ndarray  # dθ
    steps: np.ndarray | None  # the optimizer's steps; None where step_scale gives them
    new_thetas: np.ndarray  # θ_{t+1}
    # θ_t and dθ side by side, (T, 2, P), where the buffers hold them so: one reduction
    # then serves both; None: stacked when needed
    pairs: np.ndarray | None = None


def fill_parameters(rows, vectors, layout, step_scale=None):
    """rows[:, :, NORMS] of T steps (T, L, ...): ‖W‖, ‖dW‖, ‖db‖, ‖ΔW‖ and ‖ΔW‖/‖W‖; and
    rows[:, :, EXTREMES]: max |·| of W, b, dW and db, and the units' spreads.

    vectors: StepVectors of the T steps.  step_scale: α when each step is α·dθ (gradient
    descent), whose norms are then α·‖dθ‖ to within an ulp: no pass over the steps.
    """
    norms = _norms(vectors, layout, rows, with_steps=step_scale is None)
    if step_scale is not None:
        norms = np.concatenate([norms, step_scale * norms[:, _GRAD:_GRAD + 1]], axis=1)
    # norms: (T, [θ, dθ, step], 2L): tensors [W1, b1, W2, b2, ...], the W[l] at even places
    W, update = norms[:, _THETA, 0::2], norms[:, _STEP, 0::2]
    small = update < EXACT_UPDATE_RATIO * W
    if small.any():
        for k in np.flatnonzero(small.any(axis=1)):
            norms[k, _STEP] = _segment_norms([vectors.new_thetas[k] - vectors.thetas[k]],
                                             layout)[0]
    # W_norm, dW_norm, db_norm and update_norm of each layer, in one gather
    rows[:, :, columns(NORMS[:4])] = norms.reshape(len(norms), -1)[:, _norm_places(layout.L)]
    np.divide(update, W, out=rows[:, :, INDEX["update_ratio"]], where=W > 0)


@lru_cache(maxsize=16)
def _norm_places(L):
    """(L, 4): where ‖W‖, ‖dW‖, ‖db‖ and ‖ΔW‖ of each layer sit in the flat norms of
    [θ, dθ, step] x [W1, b1, W2, ...]."""
    return np.array([[_THETA * 2 * L + 2 * l, _GRAD * 2 * L + 2 * l, _GRAD * 2 * L + 2 * l + 1,
                      _STEP * 2 * L + 2 * l] for l in range(L)])


# EXTREMES: max |·| of W, b, dW and db, a colour range that holds every step; and how
# far apart a layer's units are: the range of their biases, max_i b[i] − min_i b[i], and
# max_i ‖W[i,:] − W[0,:]‖. Both about 0 mean that every unit has the same weights and
# bias: the units compute the same function, get the same gradient and stay the same (the
# symmetry problem of a constant init). Biases that differ by more than rounding
# (SAME_BIAS of their size) already tell that the units differ: the weights' spread is
# then not measured (NaN), which saves passes over W. A big θ (above FEW_PARAMETERS)
# skips the passes over its weights for their maxima too (NaN).
SAME_BIAS = 1e-10
_bias_starts = {}  # layer dims -> where each layer's b starts among all the biases
# positions in a row of EXTREMES; max |·| of W, b, dW and db come first, in that order
_MAXIMA = slice(0, 4)
_B_MAX, _DB_MAX, _W_SPREAD, _B_SPREAD = (EXTREMES.index(name) for name in (
    "b_max_abs", "db_max_abs", "W_row_spread", "b_spread"))


def _extremes(out, pairs, layout):
    """Write out (T, L, len(EXTREMES)), the EXTREMES of T steps, from their θ and dθ side by side:
    pairs (T, 2, P)."""
    T, L = len(pairs), layout.L
    # max and min take a pass each, but make no |θ|-sized copy: (T, 2, 2L), [θ, dθ]
    high = np.maximum.reduceat(pairs, layout.starts, axis=2)
    low = np.minimum.reduceat(pairs, layout.starts, axis=2)
    top = np.maximum(high, -low) + 0.0  # + 0.0: an all-zero tensor's -0.0 prints as 0
    # (T, 2, 2L): [θ, dθ] x [W1, b1, W2, ...] -> (T, L, 4): W, b, dW, db of each layer
    out[:, :, _MAXIMA] = top.reshape(T, 2, L, 2).transpose(0, 2, 1, 3).reshape(T, L, 4)
    out[:, :, _B_SPREAD] = high[:, 0, 1::2] - low[:, 0, 1::2]
    out[:, :, _W_SPREAD] = np.nan
    _fill_weight_spreads(out, pairs[:, 0], layout)


def _big_extremes(theta, grad, layout):
    """(1, L, len(EXTREMES)) EXTREMES of one step of a big θ: its biases', not its weights'
    maxima."""
    out = np.full((1, layout.L, len(EXTREMES)), np.nan)
    key = tuple(layout.dims)
    if key not in _bias_starts:
        _bias_starts[key] = np.concatenate([[0], np.cumsum(layout.dims[1:-1])]).astype(np.intp)
    for vector, column in ((theta, _B_MAX), (grad, _DB_MAX)):
        biases = np.concatenate([vector[cut] for cut in layout.cuts[1::2]])
        high = np.maximum.reduceat(biases, _bias_starts[key])
        low = np.minimum.reduceat(biases, _bias_starts[key])
        out[0, :, column] = np.maximum(high, -low) + 0.0
        if vector is theta:
            out[0, :, _B_SPREAD] = high - low
    _fill_weight_spreads(out, theta[None], layout)
    return out


def _fill_weight_spreads(out, thetas, layout):
    """out[:, l, W_row_spread] = max_i ‖W[i,:] − W[0,:]‖ of layer l + 1 at the steps where
    its biases agree (b_spread within SAME_BIAS of b_max_abs); out: (T, L, EXTREMES),
    thetas: (T, P)."""
    agree = out[:, :, _B_SPREAD] <= SAME_BIAS * out[:, :, _B_MAX]
    if not agree.any():  # the common case, without the calls
        return
    for l in np.flatnonzero(agree.any(axis=0)):
        _, (n, n_prev) = layout.shapes[2 * l]
        if n == 1:  # no other unit to differ from
            out[:, l, _W_SPREAD] = np.where(agree[:, l], 0.0, np.nan)
            continue
        W = thetas[:, layout.cuts[2 * l]].reshape(-1, n, n_prev)
        rows = W[:, 1:] - W[:, :1]
        spread = np.sqrt(np.einsum("tij,tij->ti", rows, rows).max(axis=1))
        out[:, l, _W_SPREAD] = np.where(agree[:, l], spread, np.nan)
