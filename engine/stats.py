"""Per-step statistics of every layer, computed for a chunk of steps at once.

Small networks are bound by the count of NumPy calls, not by arithmetic, so a
run's forward writes each step's Z[l] and A[l] into chunk buffers (T, n_l, m),
and the statistics reduce several steps in a few calls per layer. Rows go into
a float64 array (T, L, len(LAYER_STATS)); NaN means "not measured".
"""

import numpy as np
from scipy.linalg.blas import idamax

from engine.activations import activation_forward
from engine.losses import loss_backward

# the parameter statistics (fill_extremes): max |·| of W, b, dW and db, a colour range
# that holds every step, and how far a layer's units are from its first unit
EXTREMES = ("W_max_abs", "b_max_abs", "dW_max_abs", "db_max_abs", "W_row_spread", "b_spread")
# max |·| of each layer's dZ and dA (fill_gradient_extremes): with Z's and A's min and
# max and the EXTREMES, every tensor of a step record has its exact range, a colour scale's
GRADIENT_EXTREMES = ("dZ_max_abs", "dA_max_abs")
LAYER_STATS = (
    "W_norm", "dW_norm", "db_norm", "update_norm", "update_ratio",
    "Z_mean", "Z_std", "Z_min", "Z_max", "A_mean", "A_std", "A_min", "A_max",
    "dead_fraction", "saturated_fraction", *EXTREMES, *GRADIENT_EXTREMES,
)
INDEX = {name: k for k, name in enumerate(LAYER_STATS)}
# non-finite values of these mean the step diverged; the others may be NaN by design,
# and a spread of huge finite weights may overflow
MUST_BE_FINITE = [INDEX[n] for n in LAYER_STATS
                  if n not in ("update_ratio", "dead_fraction", "saturated_fraction", *EXTREMES,
                               *GRADIENT_EXTREMES)]

# |Z| beyond these puts A outside (0.01, 0.99) for sigmoid and (-0.99, 0.99) for tanh:
# g'(Z) is below ~1-4 % of its peak, and the unit barely learns. Measured on Z, so
# that dropout's zeros and 1/keep_prob scaling of A do not count.
SATURATION = {"sigmoid": float(np.log(0.99 / 0.01)), "tanh": float(np.arctanh(0.99))}

# TensorBoard-style fixed edges: ±10^k for k in [-6, 3] at 4 bins a decade, and 0,
# so histograms of any step and any tensor share their bins
_POSITIVE = 10.0 ** np.linspace(-6, 3, 37)
HISTOGRAM_EDGES = np.concatenate([[-np.inf], -_POSITIVE[::-1], [0.0], _POSITIVE, [np.inf]])
HISTOGRAM_TENSORS = ("Z", "A", "dZ", "dW")

# a chunk's Z and A buffers: the forward writes into them, and the statistics
# reduce T steps in one call per tensor. Small networks are bound by the count of
# NumPy calls, which a chunk amortizes; beyond about 8 MB the buffers leave the
# cache and steps slow down more than the calls saved (measured on W1, W4, W5)
MAX_CHUNK, CHUNK_BYTES = 32, 8 * 2**20
# above this many parameters, a run takes norms and accuracy step by step (one BLAS
# dot per tensor) instead of on stacked copies of a chunk's θ, dθ and steps: memory
# passes cost more than calls then
FEW_PARAMETERS = 65536


def chunk_size(layout, m):
    """Steps to summarize together: as many as fit CHUNK_BYTES, 1 to MAX_CHUNK."""
    # a queued small-θ step holds θ, dθ, the step and θ_{t+1}, and _norms stacks 3 more
    parameters = 7 * layout.size if layout.size <= FEW_PARAMETERS else 0
    step_bytes = 8 * (2 * m * sum(layout.dims[1:]) + parameters)
    return int(min(MAX_CHUNK, max(1, CHUNK_BYTES // step_bytes)))


_ONES = np.ones(0)


def _ones(n):
    """n ones, a view of one shared array that grows to the longest n asked for
    (read once: another training thread may replace it meanwhile)."""
    global _ONES
    ones = _ONES
    if ones.size < n:
        ones = _ONES = np.ones(n)
    return ones[:n]


def _power_sums(flat):
    """Σx and Σx² of each row of (T, N): BLAS dots, faster than add.reduce."""
    if flat.shape[0] == 1:
        x = flat[0]
        return np.dot(x, _ones(x.size)), np.dot(x, x)
    return flat @ _ones(flat.shape[1]), np.vecdot(flat, flat)


def _std(mean, mean_square, low, high):
    """√(E[x²] − mean²), which cancels when |mean| ≫ std (its error is about
    √u·|mean|); a constant tensor (min = max) gets exactly 0, and no std exceeds
    half the range."""
    std = np.sqrt(np.maximum(mean_square - mean * mean, 0.0))
    return np.where(high == low, 0.0, np.minimum(std, (high - low) / 2))


def _norms(steps_vectors, layout, rows):
    """(T, V, 2L) norms per tensor [W1, b1, W2, b2, ...] of T steps' V flat vectors, and
    on the way rows[:, :, EXTREMES] of their θ and dθ, the first two vectors."""
    if layout.size > FEW_PARAMETERS:
        for k, vectors in enumerate(steps_vectors):
            rows[k, :, _EXTREMES] = _big_extremes(vectors[0], vectors[1], layout)
        return np.array([_segment_norms(vectors, layout) for vectors in steps_vectors])
    stack = np.empty((len(steps_vectors), len(steps_vectors[0]), layout.size))
    for k, vectors in enumerate(steps_vectors):
        stack[k] = vectors
    _extremes(rows[:, :, _EXTREMES], stack, layout)  # before the squares
    stack *= stack
    return np.sqrt(np.add.reduceat(stack, layout.starts, axis=2))


def _segment_norms(vectors, layout):
    """(V, 2L) norms from one BLAS dot per tensor: no copies of a big θ."""
    return [[np.dot(v[cut], v[cut]) ** 0.5 for cut in layout.cuts] for v in vectors]


# ‖ΔW‖ is the norm of the optimizer's step, the update it applied: no pass over
# θ_{t+1} − θ_t. That difference, which a step record holds, is −step + δ, where
# rounding θ − step leaves |δ| ≤ u·|θ_{t+1}|; the two norms agree to
# u·‖W_{t+1}‖/‖ΔW‖ ≈ u·(1 + 1/ratio) (relative) at worst, ratio = ‖ΔW‖/‖W‖, and to
# far less for random rounding. Below this ratio the difference itself is measured.
EXACT_UPDATE_RATIO = 1e-9


def fill_parameters(rows, thetas, grads, steps, new_thetas, layout, step_scale=None):
    """rows[:, :, 0:5] of T steps (T, L, ...): ‖W‖, ‖dW‖, ‖db‖, ‖ΔW‖ and ‖ΔW‖/‖W‖; and
    rows[:, :, EXTREMES]: max |·| of W, b, dW and db, and the units' spreads.

    thetas, grads, steps, new_thetas: T flat vectors θ_t, dθ, the optimizer's step
    and θ_{t+1} = θ_t − step.  step_scale: α when each step is α·dθ (gradient
    descent), whose norms are then α·‖dθ‖ to within an ulp: no pass over the steps.
    """
    if step_scale is None:
        norms = _norms(list(zip(thetas, grads, steps, strict=True)), layout, rows)
    else:
        norms = _norms(list(zip(thetas, grads, strict=True)), layout, rows)
        norms = np.concatenate([norms, step_scale * norms[:, 1:2]], axis=1)
    W, update = norms[:, 0, 0::2], norms[:, 2, 0::2]
    for k in np.flatnonzero((update < EXACT_UPDATE_RATIO * W).any(axis=1)):
        norms[k, 2] = _segment_norms([new_thetas[k] - thetas[k]], layout)[0]
    rows[:, :, 0], rows[:, :, 1], rows[:, :, 2] = W, norms[:, 1, 0::2], norms[:, 1, 1::2]
    rows[:, :, 3] = update
    np.divide(update, W, out=rows[:, :, 4], where=W > 0)


# EXTREMES: max |·| of W, b, dW and db, a colour range that holds every step; and how
# far apart a layer's units are: the range of their biases, max_i b[i] − min_i b[i], and
# max_i ‖W[i,:] − W[0,:]‖. Both about 0 mean that every unit has the same weights and
# bias: the units compute the same function, get the same gradient and stay the same (the
# symmetry problem of a constant init). Biases that differ by more than rounding
# (SAME_BIAS of their size) already tell that the units differ: the weights' spread is
# then not measured (NaN), which saves passes over W. A big θ (above FEW_PARAMETERS)
# skips the passes over its weights for their maxima too (NaN).
_EXTREMES = slice(INDEX[EXTREMES[0]], INDEX[EXTREMES[-1]] + 1)
SAME_BIAS = 1e-10
_bias_starts = {}  # layer dims -> where each layer's b starts among all the biases


def _extremes(out, stack, layout):
    """Write out (T, L, 6), the EXTREMES of T steps, from their stack (T, V, P) of flat
    vectors θ, dθ, ... (the first two are read)."""
    (T, V, P), L = stack.shape, layout.L
    # max and min take a pass each, but make no |θ|-sized copy; on the stack as rows
    # (T·V, P), which reduceat runs faster than on its three axes
    flat = stack.reshape(T * V, P)
    high = np.maximum.reduceat(flat, layout.starts, axis=1).reshape(T, V, 2 * L)[:, :2]
    low = np.minimum.reduceat(flat, layout.starts, axis=1).reshape(T, V, 2 * L)[:, :2]
    top = np.maximum(high, -low) + 0.0  # + 0.0: an all-zero tensor's -0.0 prints as 0
    # (T, 2, 2L): [θ, dθ] x [W1, b1, W2, ...] -> (T, L, 4): W, b, dW, db of each layer
    out[:, :, :4] = top.reshape(T, 2, L, 2).transpose(0, 2, 1, 3).reshape(T, L, 4)
    out[:, :, 5] = high[:, 0, 1::2] - low[:, 0, 1::2]
    out[:, :, 4] = np.nan
    _fill_weight_spreads(out, stack[:, 0], layout)


def _big_extremes(theta, grad, layout):
    """(1, L, 6) EXTREMES of one step of a big θ: its biases', not its weights' maxima."""
    out = np.full((1, layout.L, 6), np.nan)
    key = tuple(layout.dims)
    if key not in _bias_starts:
        _bias_starts[key] = np.concatenate([[0], np.cumsum(layout.dims[1:-1])]).astype(np.intp)
    for k, vector in enumerate((theta, grad)):
        biases = np.concatenate([vector[cut] for cut in layout.cuts[1::2]])
        high = np.maximum.reduceat(biases, _bias_starts[key])
        low = np.minimum.reduceat(biases, _bias_starts[key])
        out[0, :, 2 * k + 1] = np.maximum(high, -low) + 0.0
        if k == 0:
            out[0, :, 5] = high - low
    _fill_weight_spreads(out, theta[None], layout)
    return out


def _fill_weight_spreads(out, thetas, layout):
    """out[:, l, 4] = max_i ‖W[i,:] − W[0,:]‖ of layer l + 1 at the steps where its biases
    agree (out[:, l, 5] and out[:, l, 1]: their range and max |b|); thetas: (T, P)."""
    agree = out[:, :, 5] <= SAME_BIAS * out[:, :, 1]
    for l in np.flatnonzero(agree.any(axis=0)):
        _, (n, n_prev) = layout.shapes[2 * l]
        if n == 1:  # no other unit to differ from
            out[:, l, 4] = np.where(agree[:, l], 0.0, np.nan)
            continue
        W = thetas[:, layout.cuts[2 * l]].reshape(-1, n, n_prev)
        rows = W[:, 1:] - W[:, :1]
        spread = np.sqrt(np.einsum("tij,tij->ti", rows, rows).max(axis=1))
        out[:, l, 4] = np.where(agree[:, l], spread, np.nan)


_DZ, _DA = (INDEX[name] for name in GRADIENT_EXTREMES)


def finite_max_abs(X):
    """max |x| of X in one pass: BLAS idamax, the first entry of largest |x|.  It may
    skip a NaN: exact for X without one."""
    flat = X.ravel()
    return abs(flat[idamax(flat)])


def max_abs(X, axis=None):
    """max |x| of X (along axis) without an |X|-sized copy; NaN where X holds a NaN."""
    return np.maximum(X.max(axis=axis), -X.min(axis=axis)) + 0.0  # -0.0 prints as 0


def fill_gradient_extremes(row, dZs, dAs, exact=False):
    """row[:, GRADIENT_EXTREMES] (L, ...) of one step: max |·| of each layer's dZ[l] and of
    the first len(dAs) layers' dA[l].

    exact False: one idamax pass each instead of a max and a min (half the passes, and one
    call instead of two, which is what small networks pay for), which may miss a NaN. A
    NaN in dZ[l] makes db[l] = Σ dZ[l] / m NaN, and one in dA[l] makes dZ[l] = g'(Z[l]) ⊙
    dA[l] NaN (⊙ D[l] / keep_prob): db_norm then marks the step, which training measures
    again with exact True (engine.run). A dA[L] that dZ[L] = A - Y did not use is not
    covered: output_dA_max_abs measures it.
    """
    measure = max_abs if exact else finite_max_abs
    row[:, _DZ] = [measure(dZ) for dZ in dZs]
    row[:len(dAs), _DA] = [measure(dA) for dA in dAs]


def output_dA_max_abs(loss, ALs, Y):
    """max |dA[L]| of T steps (T,) where training left dA[L] out (dZ[L] = A - Y): from
    their outputs ALs (T, n_y, m) and targets Y, (n_y, m) or (T, n_y, m), as a step
    record computes it (engine.losses.loss_backward), for the T steps in a few calls."""
    return max_abs(loss_backward(loss, ALs, Y), axis=(1, 2))


# A = g(Z) elementwise with g non-decreasing: A's min and max are g of Z's, which
# saves two passes over A (within an ulp for tanh and sigmoid, whose vector code
# may round an entry differently from the same value on its own)
MONOTONE = ("relu", "leaky_relu", "tanh", "sigmoid")


def fill_moments(rows, Zs, As, activations, dropout=False):
    """rows[:, :, 5:15] of T steps (T, L, ...): mean, std, min and max of Z and A,
    dead and saturated fractions.

    Zs[l-1], As[l-1]: (T, n_l, m) stacks.
    dropout: hidden A[l] carry their masks, so they are not g(Z).
    """
    # the passes over the tensors happen layer by layer, and the arithmetic on their
    # results for all layers at once: small networks are bound by the count of calls
    L, T = len(activations), Zs[0].shape[0]
    raw = np.full((L, 10, T), np.nan)
    for l in range(L):
        _reduce_layer(raw[l], Zs[l], As[l], activations[l], dropout and l < L - 1)
    size = np.array([Z[0].size for Z in Zs], dtype=float)[:, None, None]
    mean, mean_square = raw[:, 0:8:4] / size, raw[:, 1:8:4] / size  # (L, 2, T): Z, A
    low, high = raw[:, 2:8:4], raw[:, 3:8:4]
    moments = np.stack([mean, _std(mean, mean_square, low, high), low, high], axis=-1)
    rows[:, :, 5:13] = moments.transpose(2, 0, 1, 3).reshape(-1, L, 8)  # (T, L, Z's 4, A's 4)
    rows[:, :, 13:15] = raw[:, 8:10].transpose(2, 0, 1)


def _reduce_layer(raw, Z, A, activation, masked):
    """Write raw (10, T) of one layer: Σz, Σz², min z, max z, Σa, Σa², min a, max a,
    dead and saturated fractions of each step's Z and A: (T, n, m).  Entries that do
    not apply are left alone (NaN).  masked: A carries dropout's mask, so it is not
    g(Z)."""
    T = Z.shape[0]
    flat_Z = Z.reshape(T, -1)
    if activation == "relu":
        # a dead unit outputs 0 for every example of the batch; the units' maxima
        # also give Z's maximum
        unit_max = Z.max(axis=2)
        raw[8] = np.add.reduce(unit_max <= 0, axis=1) / Z.shape[1]
        raw[3] = unit_max.max(axis=1)
    else:
        raw[3] = np.maximum.reduce(flat_Z, axis=1)
    raw[0], raw[1] = _power_sums(flat_Z)
    raw[2] = np.minimum.reduce(flat_Z, axis=1)
    if activation in SATURATION:
        raw[9] = _saturated_fraction(flat_Z, raw[2], raw[3], SATURATION[activation])
    if activation == "linear" and not masked:
        raw[4:8] = raw[0:4]  # A is a copy of Z
        return
    flat_A = A.reshape(T, -1)
    raw[4], raw[5] = _power_sums(flat_A)
    if activation in MONOTONE and not masked:
        activation_forward(activation, raw[2:4], out=raw[6:8])
    else:
        raw[6], raw[7] = np.minimum.reduce(flat_A, axis=1), np.maximum.reduce(flat_A, axis=1)


def _saturated_fraction(flat_Z, low, high, limit):
    """Fraction of |Z| > limit per step (T, N); no pass over Z when its range says
    none is."""
    if np.all((low >= -limit) & (high <= limit)):
        return 0.0
    return np.add.reduce(np.abs(flat_Z) > limit, axis=1) / flat_Z.shape[1]


def histogram(X):
    """Counts of X's entries in HISTOGRAM_EDGES' bins (non-finite entries dropped), and
    [min, max] of the finite entries ([NaN, NaN] when there are none)."""
    finite = X[np.isfinite(X)]
    counts, _ = np.histogram(finite, bins=HISTOGRAM_EDGES)
    extremes = [float(finite.min()), float(finite.max())] if finite.size else [np.nan, np.nan]
    return counts, extremes
