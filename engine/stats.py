"""Per-step statistics of every layer, computed for a chunk of steps at once.

Small networks are bound by the count of NumPy calls, not by arithmetic, so a step
writes its Z[l], A[l], dZ[l] and dA[l] into a row (engine.step_buffers), and a few
reductions summarize every tensor of a group of such rows at once (TensorReductions);
the arithmetic that turns sums and ranges into statistics then runs once for a chunk
of steps. Rows of statistics go into a float64 array
(T, L, len(LAYER_STATS)), a statistic's column named by INDEX; NaN means "not
measured".
"""

import numpy as np

from engine.losses import loss_backward

# the parameters' norms (engine.parameter_stats)
NORMS = ("W_norm", "dW_norm", "db_norm", "update_norm", "update_ratio")
# Z's and A's moments and ranges (TensorReductions), in this order: each tensor's 4
MOMENTS = ("Z_mean", "Z_std", "Z_min", "Z_max", "A_mean", "A_std", "A_min", "A_max")
# dead ReLU units, and units saturated by sigmoid or tanh (TensorReductions)
FRACTIONS = ("dead_fraction", "saturated_fraction")
# the parameter statistics (engine.parameter_stats): max |·| of W, b, dW and db, a colour
# range that holds every step, and how far a layer's units are from its first unit
EXTREMES = ("W_max_abs", "b_max_abs", "dW_max_abs", "db_max_abs", "W_row_spread", "b_spread")
# max |·| of each layer's dZ and dA (TensorReductions): with Z's and A's min and
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
# that dropout's zeros and 1/keep_prob scaling of A do not count; not on an output
# layer whose g' cancels with its loss (sigmoid + BCE, softmax + CCE), which learns at any Z.
SATURATION = {"sigmoid": float(np.log(0.99 / 0.01)), "tanh": float(np.arctanh(0.99))}

# a chunk: the steps summarized together, whose reductions, outputs and (a small θ)
# θ and dθ wait in buffers meanwhile. Small networks are bound by the count of NumPy
# calls, which a chunk amortizes; beyond about 8 MB the buffers leave the cache
MAX_CHUNK, CHUNK_BYTES = 64, 8 * 2**20
# above this many parameters, a run takes norms and accuracy step by step (one BLAS
# dot per tensor) instead of on a chunk's stacked θ, dθ and steps: memory passes cost
# more than calls then
FEW_PARAMETERS = 65536


def chunk_size(layout, m):
    """Steps to summarize together: as many as fit CHUNK_BYTES, 1 to MAX_CHUNK."""
    # a step's output A[L] and TensorReductions (about 5 numbers a unit); a small-θ step
    # keeps θ and dθ in the chunk buffers, and its statistics stack the optimizer's step
    # and its squares: 4 θ-sized vectors
    parameters = 4 * layout.size if layout.size <= FEW_PARAMETERS else 0
    units, L = sum(layout.dims[1:]), len(layout.dims) - 1
    step_bytes = 8 * (layout.dims[-1] * m + 5 * units + 16 * L + parameters)
    return int(min(MAX_CHUNK, max(1, CHUNK_BYTES // step_bytes)))


_GRADIENTS = [INDEX[name] for name in GRADIENT_EXTREMES]  # dZ's, then dA's
# the second axis of TensorReductions.fill's moments: Σx/n, then the mean; Σx²/n, then the
# std; min; max
_MEAN, _STD = 0, 1
_AVERAGES, _RANGE = slice(0, 2), slice(2, 4)

_ONES = np.ones(0)


def _ones(n):
    """n ones, a view of one shared array that grows to the longest n asked for
    (read once: another training thread may replace it meanwhile)."""
    global _ONES
    ones = _ONES
    if ones.size < n:
        ones = _ONES = np.ones(n)
    return ones[:n]


# a Z[l] or A[l] whose variance is below this fraction of its mean square (std < 1 % of
# its root mean square: 0.5061103377 ± 1e-10, or a constant but for one entry) has its std
# taken from its entries, in two passes: E[x²] − mean² cancels there (TensorReductions).
# Above it, the relative error of that difference is below about 1e4 · u · (the sums'
# growth), about 1e-11 for a million entries
CLOSE = 1e-4


def _std(mean, mean_square, low, high):
    """√(E[x²] − mean²), which cancels when |mean| ≫ std (its error is about
    √u·|mean|: see CLOSE); a constant tensor (min = max) gets exactly 0, and no std
    exceeds half the range."""
    std = np.sqrt(np.maximum(mean_square - mean * mean, 0.0))
    return np.where(high == low, 0.0, np.minimum(std, (high - low) / 2))


def max_abs(X, axis=None):
    """max |x| of X (along axis) without an |X|-sized copy; NaN where X holds a NaN."""
    return np.maximum(X.max(axis=axis), -X.min(axis=axis)) + 0.0  # -0.0 prints as 0


def entries_moments(X, top=None):
    """(mean, std) of each row of X (g, n) from its entries, X scaled by the power of 2
    next below its max |x| (top, (g,), if the caller has it): the same numbers as np.mean
    and np.std wherever neither x² nor the scaled x leaves the normal floats (scaling by
    2^k is exact), and finite ones where x² overflows (|x| > 1.3e154)."""
    top = max_abs(X, axis=1) if top is None else top
    _, exponent = np.frexp(np.where(np.isfinite(top) & (top > 0), top, 1.0))
    scale = np.ldexp(1.0, exponent - 1)  # top = f · 2^exponent, f in [0.5, 1)
    X = X / scale[:, None]
    return X.mean(axis=1) * scale, X.std(axis=1) * scale


def output_dA_max_abs(loss, ALs, Y):
    """max |dA[L]| of T steps (T,) where training left dA[L] out (dZ[L] = A - Y): from
    their outputs ALs (T, n_y, m) and targets Y, (n_y, m) or (T, n_y, m), as a step
    record computes it (engine.losses.loss_backward), for the T steps in a few
    calls."""
    return max_abs(loss_backward(loss, ALs, Y), axis=(1, 2))


class TensorReductions:
    """What the statistics keep of each queued step's Z, A, dZ and dA.

    A step writes its tensors into a row (engine.step_buffers), and a group of rows is
    reduced in a few calls for every tensor of every layer of every step: a group as big
    as the cache holds (step_buffers.GROUP_BYTES), one step if its row is bigger. fill()
    then turns a chunk's reductions into statistics, arithmetic on small arrays. So the
    steps' tensors need buffers for a group of steps, not for a chunk.

    For queued step k: sums[k] (2, R), Σx and Σx² of each row of m examples of the Z[l]
    and A[l] regions (the rows of ones too); ranges[k] (2, G), each segment's min and max
    (a NaN propagates); unit_max[k], each unit's largest Z (dead units under dropout's
    mask); saturated[k] (L,), how many |Z[l]| exceed SATURATION (in the layers that
    measure it). R and G do not depend on m, so steps of any width reduce into the same
    arrays.

    A Z[l] or A[l] whose std is CLOSE to 0 beside its size needs it from its entries, as
    does one whose Σx² overflowed (entries past 1.3e154, finite: the std was null, or
    capped at half the range). While `watching`, reduce measures every tensor that may be
    close from its group's rows (a test twice as wide as fill's): in the run's first
    group, and from the first chunk in which fill finds one that reduce did not measure
    on. That chunk's steps are left to the run, which replays them (`close`). A run that
    never has one pays a test of one group (a few calls on a group's sums costs small
    networks 3 to 6 % a step, so it is not taken everywhere).
    """

    def __init__(self, row_layout, activations, masked, capacity, fused_output):
        """row_layout: a step's RowLayout (of any m); masked: hidden A[l] carry dropout's
        masks; capacity: the most steps queued at once; fused_output: training takes
        dZ[L] = A − Y, the output's g′ cancelled with its loss (no mistake goes through
        dA[L] g′(Z[L]))."""
        L, units = len(activations), row_layout.a_end // row_layout.m
        self.activations = activations
        self.sums = np.empty((capacity, 2, units))
        self.ranges = np.empty((capacity, 2, len(row_layout.starts)))
        self._relu = [l for l, name in enumerate(activations) if name == "relu"]
        z_units = row_layout.z_end // row_layout.m
        self.unit_max = np.empty((capacity, z_units)) if masked and self._relu else None
        # (layer, |Z| limit) of sigmoid and tanh layers; Z[l] is segment l. A fused output
        # learns at any |Z|, so its saturation is not measured (NaN), nor paid for
        self._saturating = [(l, SATURATION[name]) for l, name in enumerate(activations)
                            if name in SATURATION and (l < L - 1 or not fused_output)]
        self.saturated = np.zeros((capacity, L))
        self.watching, self._first_group = True, True
        self._measured = {}  # (k, segment): its (mean, std), measured by reduce
        self._close_bounds = {}  # m -> each segment's bound on (Σx)² / Σx² (_close_bound)
        self.close = []  # (k, l, "Z" or "A") of the last fill, whose std it did not have
        self.nbytes = sum(a.nbytes for a in (self.sums, self.ranges, self.saturated,
                                             *([] if self.unit_max is None else [self.unit_max])))

    def reduce(self, k, X, layout):
        """Reduce the rows X (g, S) of g consecutive queued steps, laid out as layout (a
        RowLayout) says, into entries k to k + g - 1."""
        g, m = len(X), layout.m
        units = X[:, :layout.a_end].reshape(g, -1, m)
        np.matmul(units, _ones(m), out=self.sums[k:k + g, 0])
        np.vecdot(units, units, out=self.sums[k:k + g, 1])
        np.minimum.reduceat(X, layout.starts, axis=1, out=self.ranges[k:k + g, 0])
        np.maximum.reduceat(X, layout.starts, axis=1, out=self.ranges[k:k + g, 1])
        if self.watching:
            found = self._measure_close(k, X, layout)
            if self._first_group and not found:
                self.watching = False  # until fill finds one
        self._first_group = False
        if self.unit_max is not None:
            np.max(X[:, :layout.z_end].reshape(g, -1, m), axis=2, out=self.unit_max[k:k + g])
        for l, limit in self._saturating:
            low, high = self.ranges[k:k + g, :, l].T
            # no pass over Z when its range says that no |z| exceeds the limit; a NaN
            # range is counted, so that a step's count does not depend on its group's
            if not np.all((low >= -limit) & (high <= limit)):
                Z = X[:, layout.starts[l]:layout.starts[l + 1]]
                self.saturated[k:k + g, l] = np.count_nonzero(np.abs(Z) > limit, axis=1)
            else:
                self.saturated[k:k + g, l] = 0

    def _measure_close(self, k, X, layout):
        """The mean and std, from their entries, of each Z[l] and A[l] of the g steps from k
        on, rows X (g, S), whose std may be CLOSE to 0 beside its size, or whose Σx²
        overflowed. Returns whether there was one."""
        g = len(X)
        total, squares = np.add.reduceat(self.sums[k:k + g], layout.moment_rows,
                                         axis=2).transpose(1, 0, 2)  # (g, segments) each
        # var < 2 CLOSE E[x²] ⇔ (Σx)² > (1 − 2 CLOSE) n Σx², n entries (∞: a row of ones)
        maybe = total * total > self._close_bound(layout) * squares
        maybe |= np.isinf(squares)
        for segment in np.flatnonzero(maybe.any(axis=0)).tolist():
            low, high = self.ranges[k:k + g, :, segment].T  # max |x|: the ranges'
            means, stds = entries_moments(X[:, layout.starts[segment]:layout.starts[segment + 1]],
                                          np.maximum(high, -low))
            self._measured.update(((k + i, segment), pair)
                                  for i, pair in enumerate(zip(means, stds, strict=True)))
        return bool(maybe.any())

    def _close_bound(self, layout):
        """(1 − 2 CLOSE) n of each Z[l] and A[l] segment of layout (n entries), ∞ for a row
        of ones (constant): fill's test of close, twice as wide."""
        bound = self._close_bounds.get(layout.m)
        if bound is None:
            bound = (1 - 2 * CLOSE) * np.diff(layout.starts[:len(layout.moment_rows) + 1])
            bound[[k for (name, _), k in layout.segment.items() if name == "ones"]] = np.inf
            self._close_bounds[layout.m] = bound
        return bound

    def fill(self, rows, layout, widths):
        """rows[:, :, MOMENTS, FRACTIONS and GRADIENT_EXTREMES] of the first T = len(rows)
        queued steps (T, L, ...): mean, std, min and max of Z and A, the dead and saturated
        fractions, and max |·| of dZ and dA (those training computed: dA[L] only where it
        is not fused with the loss), exactly (NaN where a tensor holds one).  layout: a
        RowLayout of the steps (of any width); widths: each step's m, (T,)."""
        T, L = len(rows), len(self.activations)
        moments = np.empty((T, 4, 2, L))  # (T, [mean, E[x²] then std, min, max], [Z, A], L)
        moments[:, _AVERAGES] = np.add.reduceat(self.sums[:T], layout.moment_rows,
                                                axis=2)[:, :, layout.moment_columns]
        moments[:, _AVERAGES] /= layout.units * widths[:, None, None, None]
        ranges = self.ranges[:T]
        moments[:, _RANGE] = ranges[:, :, layout.moment_columns]
        mean, mean_square, low, high = moments.transpose(1, 0, 2, 3)
        # (not a constant: _std gives it 0; a NaN is no number to measure)
        close = (mean_square - mean * mean < CLOSE * mean_square) & (high > low)
        overflowed = np.isinf(mean_square) & np.isfinite(low) & np.isfinite(high)
        close |= overflowed & (high > low)
        # a constant tensor whose Σx overflowed: its mean is its one value
        moments[:, _MEAN] = np.where(overflowed & (high == low), low, mean)
        moments[:, _STD] = _std(mean, mean_square, low, high)
        self._fill_close_stds(moments[:, _AVERAGES], close, layout)
        # (T, [mean, std, min, max], [Z, A], L) -> (T, L, MOMENTS)
        rows[:, :, columns(MOMENTS)] = moments.transpose(0, 3, 2, 1).reshape(T, L, len(MOMENTS))
        first = layout.first_gradient
        top = np.full((T, ranges.shape[2] - first + 1), np.nan)  # one more: a dA[L] left out
        np.maximum(ranges[:, 1, first:], -ranges[:, 0, first:], out=top[:, :-1])
        rows[:, :, _GRADIENTS] = top[:, layout.gradient_columns] + 0.0  # -0.0 prints as 0
        self._fill_fractions(rows, layout, widths)

    def _fill_close_stds(self, moments, close, layout):
        """The std, and a mean that overflowed, in moments (T, [mean, std], [Z, A], L) of
        the tensors that are close (T, [Z, A], L): those that reduce measured; the others
        go to `close`, and reduce watches from now on."""
        self.close = []
        for k, kind, l in zip(*np.nonzero(close), strict=True):
            k, kind, l = int(k), int(kind), int(l)
            measured = self._measured.get((k, int(layout.moment_columns[kind, l])))
            if measured is not None:
                mean, moments[k, _STD, kind, l] = measured
                if not np.isfinite(moments[k, _MEAN, kind, l]):
                    moments[k, _MEAN, kind, l] = mean
            else:
                self.close.append((k, l + 1, "ZA"[kind]))
                self.watching = True
        self._measured.clear()

    def _fill_fractions(self, rows, layout, widths):
        """rows[:, :, FRACTIONS]: dead ReLU units, and units saturated by sigmoid or tanh."""
        T, relu, L = len(rows), self._relu, len(self.activations)
        if relu:
            # a dead unit outputs 0 for every example of the batch: its row of A = max(Z, 0)
            # sums to 0 (no cancellation: A ≥ 0); under dropout's mask, its row of Z has
            # max ≤ 0
            if self.unit_max is not None:
                counts = np.add.reduceat(self.unit_max[:T] <= 0, layout.moment_rows[:L], axis=1)
            else:
                counts = np.add.reduceat(self.sums[:T, 0] == 0, layout.moment_rows,
                                         axis=1)[:, layout.moment_columns[1]]
            rows[:, relu, INDEX["dead_fraction"]] = counts[:, relu] / layout.units[relu]
        for l, _ in self._saturating:
            rows[:, l, INDEX["saturated_fraction"]] = self.saturated[:T, l] / (
                layout.units[l] * widths)
