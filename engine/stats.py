"""Per-step statistics of every layer, computed for a chunk of steps at once.

Small networks are bound by the count of NumPy calls, not by arithmetic, so a
run copies each step's Z[l] and A[l] into chunk buffers (T, n_l, m) and reduces
several steps in a few calls per layer. Big networks use chunks of one step: a
view of the step's own arrays, no copy. Rows go into a float64 array
(T, L, len(LAYER_STATS)); NaN means "not measured".
"""

import numpy as np

LAYER_STATS = (
    "W_norm", "dW_norm", "db_norm", "update_norm", "update_ratio",
    "Z_mean", "Z_std", "Z_min", "Z_max", "A_mean", "A_std", "A_min", "A_max",
    "dead_fraction", "saturated_fraction",
)
INDEX = {name: k for k, name in enumerate(LAYER_STATS)}
# non-finite values of these mean the step diverged; the others may be NaN by design
MUST_BE_FINITE = [INDEX[n] for n in LAYER_STATS
                  if n not in ("update_ratio", "dead_fraction", "saturated_fraction")]

# |Z| beyond these puts A outside (0.01, 0.99) for sigmoid and (-0.99, 0.99) for tanh:
# g'(Z) is below ~1-4 % of its peak, and the unit barely learns. Measured on Z, so
# that dropout's zeros and 1/keep_prob scaling of A do not count.
SATURATION = {"sigmoid": float(np.log(0.99 / 0.01)), "tanh": float(np.arctanh(0.99))}

# TensorBoard-style fixed edges: ±10^k for k in [-6, 3] at 4 bins a decade, and 0,
# so histograms of any step and any tensor share their bins
_POSITIVE = 10.0 ** np.linspace(-6, 3, 37)
HISTOGRAM_EDGES = np.concatenate([[-np.inf], -_POSITIVE[::-1], [0.0], _POSITIVE, [np.inf]])
HISTOGRAM_TENSORS = ("Z", "A", "dZ", "dW")

# the chunk's Z and A buffers should stay near a core's L2 cache: copies into them and
# reductions over them are memory-bound, several times slower once they spill
MAX_CHUNK, CHUNK_BYTES = 32, 2 * 2**20
# above this many parameters, norms take one BLAS dot per tensor instead of squaring
# a stacked copy of θ, dθ and Δθ: memory passes cost more than calls then
FEW_PARAMETERS = 65536


def chunk_size(layout, m):
    """Steps to summarize together: as many as fit CHUNK_BYTES, 1 to MAX_CHUNK."""
    step_bytes = 8 * (2 * m * sum(layout.dims[1:]) + 3 * layout.size)
    return int(min(MAX_CHUNK, max(1, CHUNK_BYTES // step_bytes)))


_ONES = np.ones(0)


def _ones(n):
    """n ones, a view of one shared array that grows to the longest n asked for."""
    global _ONES
    if _ONES.size < n:
        _ONES = np.ones(n)
    return _ONES[:n]


def _sums(flat):
    """Σ x of each row of (T, N): a BLAS matrix-vector product, faster than add.reduce."""
    return flat @ _ones(flat.shape[1])


def _sum_squares(flat):
    """Σ x² of each row of (T, N): a BLAS dot for one row, einsum for a stack."""
    if flat.shape[0] == 1:
        return np.array([np.dot(flat[0], flat[0])])
    return np.einsum("ti,ti->t", flat, flat)


def _std(mean, mean_square, low, high):
    """√(E[x²] − mean²), which cancels when |mean| ≫ std (its error is about
    √u·|mean|); a constant tensor (min = max) gets exactly 0, and no std exceeds
    half the range."""
    std = np.sqrt(np.maximum(mean_square - mean * mean, 0.0))
    return np.where(high == low, 0.0, np.minimum(std, (high - low) / 2))


def _moments(X, out, high=None):
    """out (T, 4) = mean, std, min, max of each step's entries.  X: (T, n, m).

    high: the maxima when the caller has them already.
    """
    flat = X.reshape(X.shape[0], -1)
    n = flat.shape[1]
    mean = _sums(flat) / n
    low = np.minimum.reduce(flat, axis=1)
    high = np.maximum.reduce(flat, axis=1) if high is None else high
    out[:, 0], out[:, 1] = mean, _std(mean, _sum_squares(flat) / n, low, high)
    out[:, 2], out[:, 3] = low, high


def _norms(thetas, grads, new_thetas, layout):
    """(T, 3, 2L) norms of θ, dθ and θ_{t+1} − θ_t per tensor [W1, b1, W2, b2, ...]."""
    if layout.size > FEW_PARAMETERS:
        return np.array([_segment_norms((theta, g, new - theta), layout)
                         for theta, g, new in zip(thetas, grads, new_thetas, strict=True)])
    stack = np.empty((len(thetas), 3, layout.size))
    for k, (theta, g, new) in enumerate(zip(thetas, grads, new_thetas, strict=True)):
        stack[k, 0], stack[k, 1] = theta, g
        np.subtract(new, theta, out=stack[k, 2])
    stack *= stack
    return np.sqrt(np.add.reduceat(stack, layout.starts, axis=2))


def _segment_norms(vectors, layout):
    """(3, 2L) norms from one BLAS dot per tensor: no copies of a big θ."""
    return [[np.dot(v[cut], v[cut]) ** 0.5 for cut in layout.cuts] for v in vectors]


def fill(rows, Zs, As, thetas, grads, new_thetas, layout, activations, dropout=False):
    """rows (T, L, len(LAYER_STATS)) of T consecutive steps.

    Zs[l-1], As[l-1]: (T, n_l, m) stacks; thetas, grads, new_thetas: T flat vectors.
    dropout: hidden A[l] carry their masks, so they are not max(Z, 0).
    """
    norms = _norms(thetas, grads, new_thetas, layout)
    rows[:, :, 0], rows[:, :, 1], rows[:, :, 2] = norms[:, 0, 0::2], norms[:, 1, 0::2], \
        norms[:, 1, 1::2]
    rows[:, :, 3] = norms[:, 2, 0::2]
    np.divide(rows[:, :, 3], rows[:, :, 0], out=rows[:, :, 4], where=rows[:, :, 0] > 0)
    for l, activation in enumerate(activations, start=1):
        Z, A, row = Zs[l - 1], As[l - 1], rows[:, l - 1]
        if activation == "relu":
            # a dead unit outputs 0 for every example of the batch; the units' maxima
            # also give Z's maximum
            unit_max = Z.max(axis=2)
            row[:, 13] = np.mean(unit_max <= 0, axis=1)
            _moments(Z, row[:, 5:9], high=unit_max.max(axis=1))
        else:
            _moments(Z, row[:, 5:9])
        if activation == "relu" and not (dropout and l < len(activations)):
            _relu_moments(A, row[:, 5:9], row[:, 9:13])
        else:
            _moments(A, row[:, 9:13])
        if activation in SATURATION:
            row[:, 14] = np.mean(np.abs(Z) > SATURATION[activation], axis=(1, 2))


def _relu_moments(A, Z_moments, out):
    """Moments of A = max(Z, 0): min and max follow from Z's, saving two passes."""
    flat = A.reshape(A.shape[0], -1)
    n = flat.shape[1]
    mean = _sums(flat) / n
    low, high = np.maximum(Z_moments[:, 2], 0.0), np.maximum(Z_moments[:, 3], 0.0)
    out[:, 0], out[:, 1] = mean, _std(mean, _sum_squares(flat) / n, low, high)
    out[:, 2], out[:, 3] = low, high


def histogram(X):
    """Counts of X's entries in HISTOGRAM_EDGES' bins (non-finite entries dropped)."""
    counts, _ = np.histogram(X[np.isfinite(X)], bins=HISTOGRAM_EDGES)
    return counts
