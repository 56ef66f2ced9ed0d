"""Per-step statistics of every layer, computed for a chunk of steps at once.

Small networks are bound by the count of NumPy calls, not by arithmetic, so a
run's steps write their Z[l], A[l], dZ[l] and dA[l] into a row each of a chunk's
buffers (engine.step_buffers), and a statistic of every tensor of every step of the
chunk is one reduceat over the rows. Rows of statistics go into a float64 array
(T, L, len(LAYER_STATS)), a statistic's column named by INDEX; NaN means "not
measured".
"""

import numpy as np

from engine.fast_step import activate
from engine.losses import loss_backward

# the parameters' norms (engine.parameter_stats)
NORMS = ("W_norm", "dW_norm", "db_norm", "update_norm", "update_ratio")
# Z's and A's moments and ranges (fill_tensor_stats), in this order: each tensor's 4
MOMENTS = ("Z_mean", "Z_std", "Z_min", "Z_max", "A_mean", "A_std", "A_min", "A_max")
# dead ReLU units, and units saturated by sigmoid or tanh (fill_tensor_stats)
FRACTIONS = ("dead_fraction", "saturated_fraction")
# the parameter statistics (engine.parameter_stats): max |·| of W, b, dW and db, a colour
# range that holds every step, and how far a layer's units are from its first unit
EXTREMES = ("W_max_abs", "b_max_abs", "dW_max_abs", "db_max_abs", "W_row_spread", "b_spread")
# max |·| of each layer's dZ and dA (fill_tensor_stats): with Z's and A's min and
# max and the EXTREMES, every tensor of a step record has its exact range, a colour scale's
GRADIENT_EXTREMES = ("dZ_max_abs", "dA_max_abs")
LAYER_STATS = (*NORMS, *MOMENTS, *FRACTIONS, *EXTREMES, *GRADIENT_EXTREMES)
INDEX = {name: k for k, name in enumerate(LAYER_STATS)}


def columns(group):
    """The columns of a group of LAYER_STATS (NORMS, MOMENTS, ...), which sit side by side
    in its order."""
    return slice(INDEX[group[0]], INDEX[group[-1]] + 1)


# non-finite values of these mean the step diverged; the others may be NaN by design,
# and a spread of huge finite weights may overflow
MUST_BE_FINITE = [INDEX[n] for n in LAYER_STATS
                  if n not in ("update_ratio", "dead_fraction", "saturated_fraction", *EXTREMES,
                               *GRADIENT_EXTREMES)]

# |Z| beyond these puts A outside (0.01, 0.99) for sigmoid and (-0.99, 0.99) for tanh:
# g'(Z) is below ~1-4 % of its peak, and the unit barely learns. Measured on Z, so
# that dropout's zeros and 1/keep_prob scaling of A do not count.
SATURATION = {"sigmoid": float(np.log(0.99 / 0.01)), "tanh": float(np.arctanh(0.99))}

# a chunk's buffers: the steps write their tensors into them, and the statistics
# reduce T steps in a few calls. Small networks are bound by the count of
# NumPy calls, which a chunk amortizes; beyond about 8 MB the buffers leave the
# cache and steps slow down more than the calls saved (measured on W1, W4, W5)
MAX_CHUNK, CHUNK_BYTES = 32, 8 * 2**20
# above this many parameters, a run takes norms and accuracy step by step (one BLAS
# dot per tensor) instead of on a chunk's stacked θ, dθ and steps: memory passes cost
# more than calls then
FEW_PARAMETERS = 65536


def chunk_size(layout, m):
    """Steps to summarize together: as many as fit CHUNK_BYTES, 1 to MAX_CHUNK."""
    # a step's Z, A, dZ and dA; a small-θ step keeps θ and dθ in the chunk buffers, and
    # its statistics stack the optimizer's step and its squares: 4 θ-sized vectors
    parameters = 4 * layout.size if layout.size <= FEW_PARAMETERS else 0
    step_bytes = 8 * (4 * m * sum(layout.dims[1:]) + parameters)
    return int(min(MAX_CHUNK, max(1, CHUNK_BYTES // step_bytes)))


_GRADIENTS = [INDEX[name] for name in GRADIENT_EXTREMES]  # dZ's, then dA's

_ONES = np.ones(0)


def _ones(n):
    """n ones, a view of one shared array that grows to the longest n asked for
    (read once: another training thread may replace it meanwhile)."""
    global _ONES
    ones = _ONES
    if ones.size < n:
        ones = _ONES = np.ones(n)
    return ones[:n]


def _std(mean, mean_square, low, high):
    """√(E[x²] − mean²), which cancels when |mean| ≫ std (its error is about
    √u·|mean|); a constant tensor (min = max) gets exactly 0, and no std exceeds
    half the range."""
    std = np.sqrt(np.maximum(mean_square - mean * mean, 0.0))
    return np.where(high == low, 0.0, np.minimum(std, (high - low) / 2))


def max_abs(X, axis=None):
    """max |x| of X (along axis) without an |X|-sized copy; NaN where X holds a NaN."""
    return np.maximum(X.max(axis=axis), -X.min(axis=axis)) + 0.0  # -0.0 prints as 0


def output_dA_max_abs(loss, ALs, Y):
    """max |dA[L]| of T steps (T,) where training left dA[L] out (dZ[L] = A - Y): from
    their outputs ALs (T, n_y, m) and targets Y, (n_y, m) or (T, n_y, m), as a step
    record computes it (engine.losses.loss_backward), for the T steps in a few calls."""
    return max_abs(loss_backward(loss, ALs, Y), axis=(1, 2))


def fill_tensor_stats(rows, X, layout, activations, masked=False):
    """rows[:, :, MOMENTS, FRACTIONS and GRADIENT_EXTREMES] of T steps (T, L, ...): mean,
    std, min and max of Z and A, dead and saturated fractions, and max |·| of dZ and dA
    (those training computed: dA[L] only where it is not fused with the loss), exactly
    (NaN where a tensor holds one).

    X: the steps' tensors, a row (T, S) each, laid out as layout says
    (engine.step_buffers.RowLayout).  masked: hidden A[l] carry dropout's masks.
    """
    # one call reduces a statistic of every tensor of every step: small networks are
    # bound by the count of calls. Σx and Σx² go row by row (a unit's m examples, in
    # BLAS), then the rows' add up per tensor
    T, L, m = len(X), len(activations), layout.m
    units = X[:, :layout.a_end].reshape(T, -1, m)
    by_row = np.empty((T, 2, units.shape[1]))  # (T, [Σx, Σx²], rows)
    np.matmul(units, _ones(m), out=by_row[:, 0])
    np.vecdot(units, units, out=by_row[:, 1])
    moments = np.empty((T, 4, 2, L))  # (T, [mean, E[x²] then std, min, max], [Z, A], L)
    moments[:, :2] = np.add.reduceat(by_row, layout.moment_rows,
                                     axis=2)[:, :, layout.moment_columns]
    moments[:, :2] /= layout.units * m
    _fill_ranges(moments[:, 2:], X, layout, activations, masked)
    mean, mean_square, low, high = moments.transpose(1, 0, 2, 3)
    moments[:, 1] = _std(mean, mean_square, low, high)
    # (T, [mean, std, min, max], [Z, A], L) -> (T, L, MOMENTS)
    rows[:, :, columns(MOMENTS)] = moments.transpose(0, 3, 2, 1).reshape(T, L, len(MOMENTS))
    gradients, starts = X[:, layout.a_end:], layout.gradient_starts
    top = np.full((T, len(starts) + 1), np.nan)  # one more: a dA[L] training left out
    np.maximum(np.maximum.reduceat(gradients, starts, axis=1),
               -np.minimum.reduceat(gradients, starts, axis=1), out=top[:, :-1])
    rows[:, :, _GRADIENTS] = top[:, layout.gradient_columns] + 0.0  # -0.0 prints as 0
    _fill_fractions(rows, X, layout, activations, (by_row[:, 0], low[:, 0], high[:, 0], masked))


# A = g(Z) elementwise with g non-decreasing: A's min and max are g of Z's, which
# saves two passes over A (within an ulp for tanh and sigmoid, whose vector code
# may round an entry differently from the same value on its own)
MONOTONE = ("relu", "leaky_relu", "tanh", "sigmoid", "linear")


def _fill_ranges(ranges, X, layout, activations, masked):
    """ranges (T, [min, max], [Z, A], L): each Z[l]'s and A[l]'s min and max."""
    np.minimum.reduceat(X[:, :layout.z_end], layout.z_starts, axis=1, out=ranges[:, 0, 0])
    np.maximum.reduceat(X[:, :layout.z_end], layout.z_starts, axis=1, out=ranges[:, 1, 0])
    L = len(activations)
    for name in set(activations):
        layers = [l for l, g in enumerate(activations) if g == name]
        if name in MONOTONE and not (masked and layers[0] < L - 1):  # only A[L] unmasked
            ranges[:, :, 1, layers] = activate(name, ranges[:, :, 0, layers])
            continue
        for l in layers:
            A = layout.tensor(X, "A", l + 1).reshape(len(X), -1)
            ranges[:, 0, 1, l], ranges[:, 1, 1, l] = A.min(axis=1), A.max(axis=1)


def _fill_fractions(rows, X, layout, activations, seen):
    """rows[:, :, FRACTIONS]: dead ReLU units, and units saturated by sigmoid or tanh.
    X, layout: as fill_tensor_stats; seen: the sums of each row of Z and A (T, rows),
    each Z[l]'s min and max (T, L), and whether hidden A[l] carry dropout's masks."""
    row_sums, low, high, masked = seen
    relu = [l for l, name in enumerate(activations) if name == "relu"]
    if relu:
        # a dead unit outputs 0 for every example of the batch: its row of A = max(Z, 0)
        # sums to 0 (no cancellation: A ≥ 0); under dropout's mask, its row of Z has max ≤ 0
        if masked:
            dead = np.maximum.reduceat(X[:, :layout.z_end],
                                       np.arange(0, layout.z_end, layout.m),
                                       axis=1) <= 0
            counts = np.add.reduceat(dead, layout.moment_rows[:len(activations)], axis=1)
        else:
            counts = np.add.reduceat(row_sums == 0, layout.moment_rows,
                                     axis=1)[:, layout.moment_columns[1]]
        rows[:, relu, INDEX["dead_fraction"]] = counts[:, relu] / layout.units[relu]
    for l, name in enumerate(activations):
        if name in SATURATION:
            Z = layout.tensor(X, "Z", l + 1).reshape(len(X), -1)
            rows[:, l, INDEX["saturated_fraction"]] = _saturated_fraction(
                Z, low[:, l], high[:, l], SATURATION[name])


def _saturated_fraction(flat_Z, low, high, limit):
    """Fraction of |Z| > limit per step (T, N); no pass over Z when its range says
    none is."""
    if np.all((low >= -limit) & (high <= limit)):
        return 0.0
    return np.add.reduce(np.abs(flat_Z) > limit, axis=1) / flat_Z.shape[1]
