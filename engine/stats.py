"""Per-step statistics of every layer, computed for a chunk of steps at once.

Small networks are bound by the count of NumPy calls, not by arithmetic, so a
run's forward writes each step's Z[l] and A[l] into chunk buffers (T, n_l, m),
and the statistics reduce several steps in a few calls per layer. Rows go into
a float64 array (T, L, len(LAYER_STATS)), a statistic's column named by INDEX;
NaN means "not measured".
"""

import numpy as np
from scipy.linalg.blas import idamax

from engine.fast_step import activate
from engine.losses import loss_backward

# the parameters' norms (engine.parameter_stats)
NORMS = ("W_norm", "dW_norm", "db_norm", "update_norm", "update_ratio")
# Z's and A's moments and ranges (fill_moments), in this order: each tensor's 4
MOMENTS = ("Z_mean", "Z_std", "Z_min", "Z_max", "A_mean", "A_std", "A_min", "A_max")
# dead ReLU units, and units saturated by sigmoid or tanh (fill_moments)
FRACTIONS = ("dead_fraction", "saturated_fraction")
# the parameter statistics (engine.parameter_stats): max |·| of W, b, dW and db, a colour
# range that holds every step, and how far a layer's units are from its first unit
EXTREMES = ("W_max_abs", "b_max_abs", "dW_max_abs", "db_max_abs", "W_row_spread", "b_spread")
# max |·| of each layer's dZ and dA (fill_gradient_extremes): with Z's and A's min and
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

# a chunk's Z and A buffers: the forward writes into them, and the statistics
# reduce T steps in one call per tensor. Small networks are bound by the count of
# NumPy calls, which a chunk amortizes; beyond about 8 MB the buffers leave the
# cache and steps slow down more than the calls saved (measured on W1, W4, W5)
MAX_CHUNK, CHUNK_BYTES = 32, 8 * 2**20
# above this many parameters, a run takes norms and accuracy step by step (one BLAS
# dot per tensor) instead of on a chunk's stacked θ, dθ and steps: memory passes cost
# more than calls then
FEW_PARAMETERS = 65536


def chunk_size(layout, m):
    """Steps to summarize together: as many as fit CHUNK_BYTES, 1 to MAX_CHUNK."""
    # a small-θ step of a chunk keeps θ and dθ in the chunk buffers, and its statistics
    # stack the optimizer's step and squares: about 7 θ-sized vectors in all
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


# a tensor's reductions over each step (fill_moments): rows of its (4, T) sums
SUM, SUM_SQUARES, LOW, HIGH = range(4)
RANGE = slice(LOW, HIGH + 1)


def fill_moments(rows, Zs, As, activations, dropout=False):
    """rows[:, :, MOMENTS and FRACTIONS] of T steps (T, L, ...): mean, std, min and max of
    Z and A, dead and saturated fractions.

    Zs[l-1], As[l-1]: (T, n_l, m) stacks.
    dropout: hidden A[l] carry their masks, so they are not g(Z).
    """
    # the passes over the tensors happen layer by layer, and the arithmetic on their
    # results for all layers at once: small networks are bound by the count of calls
    L, T = len(activations), Zs[0].shape[0]
    sums = np.full((L, 2, 4, T), np.nan)  # layer, [Z, A], [SUM, SUM_SQUARES, LOW, HIGH]
    fractions = np.full((L, len(FRACTIONS), T), np.nan)
    for l in range(L):
        _reduce_layer(sums[l], fractions[l], Zs[l], As[l], activations[l],
                      dropout and l < L - 1)
    size = np.array([Z[0].size for Z in Zs], dtype=float)[:, None, None]
    mean, mean_square = sums[:, :, SUM] / size, sums[:, :, SUM_SQUARES] / size  # (L, 2, T)
    low, high = sums[:, :, LOW], sums[:, :, HIGH]
    moments = np.stack([mean, _std(mean, mean_square, low, high), low, high], axis=-1)
    # (L, [Z, A], T, [mean, std, min, max]) -> (T, L, MOMENTS)
    rows[:, :, columns(MOMENTS)] = moments.transpose(2, 0, 1, 3).reshape(T, L, len(MOMENTS))
    rows[:, :, columns(FRACTIONS)] = fractions.transpose(2, 0, 1)


def _reduce_layer(sums, fractions, Z, A, activation, masked):
    """One layer's reductions of each step's Z and A: (T, n, m).  Writes sums (2, 4, T):
    [Z, A] x [Σx, Σx², min, max], and fractions (FRACTIONS, T); entries that do not apply
    are left alone (NaN).  masked: A carries dropout's mask, so it is not g(Z)."""
    (z, a), (dead, saturated) = sums, fractions
    T = Z.shape[0]
    flat_Z = Z.reshape(T, -1)
    if activation == "relu":
        # a dead unit outputs 0 for every example of the batch; the units' maxima
        # also give Z's maximum
        unit_max = Z.max(axis=2)
        dead[:] = np.add.reduce(unit_max <= 0, axis=1) / Z.shape[1]
        z[HIGH] = unit_max.max(axis=1)
    else:
        z[HIGH] = np.maximum.reduce(flat_Z, axis=1)
    z[SUM], z[SUM_SQUARES] = _power_sums(flat_Z)
    z[LOW] = np.minimum.reduce(flat_Z, axis=1)
    if activation in SATURATION:
        saturated[:] = _saturated_fraction(flat_Z, z[LOW], z[HIGH], SATURATION[activation])
    if activation == "linear" and not masked:
        a[:] = z  # A is a copy of Z
        return
    flat_A = A.reshape(T, -1)
    a[SUM], a[SUM_SQUARES] = _power_sums(flat_A)
    if activation in MONOTONE and not masked:
        activate(activation, z[RANGE], out=a[RANGE])
    else:
        a[LOW], a[HIGH] = np.minimum.reduce(flat_A, axis=1), np.maximum.reduce(flat_A, axis=1)


def _saturated_fraction(flat_Z, low, high, limit):
    """Fraction of |Z| > limit per step (T, N); no pass over Z when its range says
    none is."""
    if np.all((low >= -limit) & (high <= limit)):
        return 0.0
    return np.add.reduce(np.abs(flat_Z) > limit, axis=1) / flat_Z.shape[1]
