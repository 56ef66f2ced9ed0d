"""Per-step series of a run: cost, accuracy or R², and layer statistics.

Accuracy needs a forward pass over the test set with each step's θ. Doing that
per step would cost more than the step's own bookkeeping, so the steps are
queued and evaluated a chunk at a time: one batched matmul per layer for a
stack of parameter vectors.
"""

import itertools

import numpy as np

from engine import stats
from engine.activations import activation_forward
from engine.batches import batch_size_at
from engine.layers import affine_forward, ones_below
from engine.losses import FUSED, label_index
from engine.step import Buffers


class ClassLabels:
    """What accuracy needs of one-hot targets Y (n_y, m), precomputed once."""

    def __init__(self, Y):
        labels = Y.argmax(axis=0)
        self.index = label_index(labels, Y.shape[1])  # of y's class in flat AL
        self.later = np.arange(Y.shape[0])[:, None] >= labels  # (n_y, m): classes ≥ y


def metric(task, AL, Y, labels=None):
    """Accuracy for classification, R² for regression.  AL: (..., n_y, m), Y: (n_y, m).

    labels: ClassLabels(Y), when the caller has it already.
    """
    if Y.shape[1] == 0:
        return np.full(AL.shape[:-2], np.nan)
    if task == "regression":
        total = np.sum((Y - Y.mean()) ** 2)
        residual = np.sum((AL - Y) ** 2, axis=(-2, -1))
        return 1.0 - residual / total if total > 0 else np.full(AL.shape[:-2], np.nan)
    if Y.shape[0] == 1:
        return np.add.reduce((AL > 0.5) == (Y > 0.5), axis=(-2, -1)) / Y.shape[1]
    # argmax's answer without argmax along the short, strided unit axis, which is
    # several times slower: with one maximum per column, y is right where its output
    # is the maximum
    labels = ClassLabels(Y) if labels is None else labels
    own = np.take(AL.reshape(*AL.shape[:-2], -1), labels.index, axis=-1)  # y's: (..., m)
    top = AL.max(axis=-2)
    # a NaN column (top is NaN) counts no maximum, which would hide a tied column's two
    if np.count_nonzero(top[..., None, :] == AL) == top.size and not np.isnan(top).any():
        return np.add.reduce(own == top, axis=-1) / AL.shape[-1]
    # tied maxima (or NaN, never right): argmax picks the first, so y is right when its
    # output is above every earlier class and not below any later one
    own = own[..., None, :]
    right = (own > AL) | ((own == AL) & labels.later)
    return right.all(axis=-2).mean(axis=-1)


def predicted_classes(AL) -> list[int | None]:
    """Each column's class, as metric() counts it: A > 0.5 for one output unit, else the
    first largest output; None where a column is not finite.  AL: (n_y, m) -> m entries."""
    finite = np.isfinite(AL).all(axis=0)
    classes = AL[0] > 0.5 if AL.shape[0] == 1 else np.argmax(AL, axis=0)
    return [int(c) if ok else None for c, ok in zip(classes.tolist(), finite, strict=True)]


def stacked_forward(layout, thetas, X_ones, activations):
    """AL for a stack of parameter vectors.  thetas: (T, P), X_ones: (n_x + 1, m), X
    with a row of ones below (engine.layers.with_ones) -> (T, n_y, m)."""
    A_ones = X_ones
    for l in range(1, layout.L + 1):
        _, (r, c) = layout.shapes[2 * l - 2]
        s = layout.starts[2 * l - 2]  # W[l] then b[l], as ParamLayout orders them
        W = thetas[:, s:s + r * c].reshape(-1, r, c)
        b = thetas[:, s + r * c:s + r * c + r].reshape(-1, r, 1)
        Z = affine_forward(A_ones, W, b)
        if l == layout.L:
            return activation_forward(activations[l - 1], Z, out=Z)[0]  # Z is not kept
        A_ones = ones_below(Z.shape)
        activation_forward(activations[l - 1], Z, out=A_ones[..., :-1, :])


# a stacked forward holds two (n, m) activations per θ at once (a layer's input and its
# output): at most this many bytes of them
EVALUATE_BYTES = 8 * 2**20


class Series:
    """Preallocated arrays, one row per step; NaN where not measured.

    Steps are summarized a chunk at a time (engine.stats): each step's forward
    writes its Z and A straight into chunk buffers (see slot()), so nothing is
    copied. A step counts as recorded once its chunk is summarized.
    """

    def __init__(self, cfg, layout, data):
        self.m_train = data.X_train.shape[1]
        steps, m = cfg["steps"], cfg["batch_size"] or self.m_train
        self.cfg, self.layout, self.data = cfg, layout, data
        self.cost = np.full(steps, np.nan)
        self.epoch = np.zeros(steps, dtype=np.int64)
        self.train = np.full(steps, np.nan)
        self.test = np.full(steps, np.nan)
        self.layers = np.full((steps, layout.L, len(stats.LAYER_STATS)), np.nan)
        # max |X| of each step's batch, from each example's max |x| (m_train,)
        self.X_max_abs = np.full(steps, np.nan)
        self._example_max_abs = np.abs(data.X_train).max(axis=0, initial=0.0)
        self._all_max_abs = self._example_max_abs.max(initial=0.0)
        # training leaves dA[L] out where dZ[L] = A - Y: its range comes from a chunk's
        # outputs and targets, the targets of queued mini-batches kept until then
        self.output_dA_left_out = (cfg["activations"][-1], cfg["loss"]) in FUSED
        self._Ys = []
        self._dZ_keys, self._dA_keys = ([f"{name}{l}" for l in range(1, layout.L + 1)]
                                        for name in ("dZ", "dA"))
        # the step's own AL is the train prediction when it saw all data without dropout
        self.own_AL = cfg["batch_size"] is None and cfg["keep_prob"] == 1.0
        self.chunk, self.m = stats.chunk_size(layout, m), m
        # gradient descent steps α·dθ: their norms are α·‖dθ‖ (engine.stats.fill_norms)
        self.step_scale = cfg["learning_rate"] if cfg["optimizer"] == "gd" else None
        # small θ: norms of a chunk's steps in a few calls on stacked copies
        self.stack_parameters = layout.size <= stats.FEW_PARAMETERS
        # chunk buffers, while training (buffers())
        self.Z = self.A = self.G = self.Theta = self._slots = self._thetas = None
        self._buffers, self._buffer_bytes = {}, 0
        self.labels = {"train": ClassLabels(data.Y_train), "test": ClassLabels(data.Y_test)}
        self.recorded = 0  # steps summarized so far
        self._queue = []

    def buffers(self, allocate):
        """Allocate the chunk buffers for training, or free them (allocate False)."""
        dims = self.layout.dims[1:]
        if allocate and self.chunk > 1:
            self.Z = [np.empty((self.chunk, n, self.m)) for n in dims]
            # a hidden A[l] sits above a row of ones, as model_forward takes it
            self.A = [np.empty((self.chunk, n + 1, self.m)) for n in dims[:-1]] + \
                [np.empty((self.chunk, dims[-1], self.m))]
            for A in self.A[:-1]:
                A[:, -1] = 1.0
            # the queue holds a small θ's dθ of every step, and θ_t and θ_{t+1}: one dθ a
            # slot, and a ring of θs one longer than the chunk. A big θ's norms are taken
            # at once (record()), so one dθ and two θs do.
            size, small = self.layout.size, self.stack_parameters
            self.G = np.empty((self.chunk if small else 1, size))
            self.Theta = np.empty((self.chunk + 1 if small else 2, size))
            views = self.layout.views
            self._slots = [([(Z[k], A[k]) for Z, A in zip(self.Z, self.A, strict=True)], g,
                            views(g)) for k, g in zip(range(self.chunk), itertools.cycle(self.G))]
            self._thetas = [(theta, views(theta)) for theta in self.Theta]
            self._ring = 0  # the θ ring's row of the latest θ_{t+1}
            self._buffers = {}
            # one number, for nbytes() in other threads while the arrays come and go
            self._buffer_bytes = sum(Z.nbytes for Z in self.Z + self.A) + self.G.nbytes + \
                self.Theta.nbytes
        else:
            self._buffer_bytes = 0
            self.Z = self.A = self.G = self.Theta = self._slots = self._thetas = None
            self._buffers = {}  # their Buffers hold views of the chunk buffers

    def slot(self, t):
        """The chunk's Buffers for step t to write into, or None: a step summarized
        alone (a big one, or a remainder batch) keeps its own arrays."""
        if self.Z is None or (self.cfg["batch_size"] is not None and
                              batch_size_at(t, self.m_train, self.cfg["batch_size"]) != self.m):
            return None
        self._ring = (self._ring + 1) % len(self._thetas)
        key = (len(self._queue), self._ring)
        if key not in self._buffers:  # at most chunk·(chunk + 1) pairs, each made once
            self._buffers[key] = Buffers(*self._slots[key[0]], *self._thetas[key[1]])
        return self._buffers[key]

    def record(self, t, result, queued=False):
        """Add step t; queued: its Z and A are in the slot() buffers.  Returns the
        summarized steps whose numbers are not all finite."""
        light = (t, result.cost, result.epoch, result.theta, result.g, result.step,
                 result.new_theta)
        self.gradient_extremes(t, result)
        Y = result.Y if self.output_dA_left_out and self.cfg["batch_size"] else None
        if not self.stack_parameters:
            # a big θ: its norms and metrics now, so that the queue holds no θ-sized arrays
            self._parameters([light], result.AL[None])
            light = (t, result.cost, result.epoch)
        if not queued:
            suspects = self.flush()
            Zs = [cache[1][None] for cache in result.caches]
            As = [result.A(l)[None] for l in range(1, self.layout.L + 1)]
            return suspects + self._summarize([light], Zs, As, [Y])
        self._queue.append(light)
        self._Ys.append(Y)
        return self.flush() if len(self._queue) == self.chunk else []

    def gradient_extremes(self, t, result, exact=False):
        """Step t's max |X|, and max |·| of every layer's dZ and dA (the output layer's dA
        where training computed it); exact: see stats.fill_gradient_extremes."""
        self.X_max_abs[t] = self._all_max_abs if result.indices is None else \
            self._example_max_abs[result.indices].max()
        grads = result.grads
        dAs = [grads[key] for key in self._dA_keys]
        stats.fill_gradient_extremes(self.layers[t], [grads[key] for key in self._dZ_keys],
                                     dAs[:-1] if dAs[-1] is None else dAs, exact)

    def flush(self):
        """Summarize the queued steps.  Returns those whose numbers are not all finite."""
        queue, self._queue = self._queue, []
        Ys, self._Ys = self._Ys, []
        if not queue:
            return []
        T = len(queue)
        # Z[:T] and A[:T] without the ones rows: (T, n_l, m) views
        return self._summarize(queue, [Z[:T] for Z in self.Z],
                               [A[:T, :Z.shape[1]] for Z, A in zip(self.Z, self.A, strict=True)],
                               Ys)

    def _summarize(self, queue, Zs, As, Ys):
        """Ys: each step's targets where output_dA_left_out needs them (mini-batches), else
        None: the whole training set's."""
        steps = [q[0] for q in queue]
        rows = self.layers[steps[0]:steps[-1] + 1]
        with np.errstate(all="ignore"):
            self.cost[steps] = [q[1] for q in queue]
            self.epoch[steps] = [q[2] for q in queue]
            if self.stack_parameters:
                self._parameters(queue, As[-1])
            stats.fill_moments(rows, Zs, As, self.cfg["activations"], self.cfg["keep_prob"] < 1.0)
            if self.output_dA_left_out:
                Y = self.data.Y_train if Ys[0] is None else np.stack(Ys)
                rows[:, -1, stats.INDEX["dA_max_abs"]] = stats.output_dA_max_abs(
                    self.cfg["loss"], As[-1], Y)
        finite = np.isfinite(self.cost[steps]) & \
            np.isfinite(rows[:, :, stats.MUST_BE_FINITE]).all(axis=(1, 2))
        self.recorded = steps[-1] + 1
        return [steps[k] for k in np.flatnonzero(~finite)]

    def _parameters(self, queue, ALs):
        """Norms and metrics of consecutive steps from their light records (t, cost,
        epoch, θ, dθ, step, θ_{t+1}) and outputs ALs (T, n_y, m)."""
        steps = [q[0] for q in queue]
        with np.errstate(all="ignore"):
            _, _, _, thetas, grads, updates, new_thetas = zip(*queue, strict=True)
            stats.fill_parameters(self.layers[steps[0]:steps[-1] + 1], thetas, grads,
                                  updates, new_thetas, self.layout, self.step_scale)
            self._metrics(steps, thetas, ALs)

    def _metrics(self, steps, thetas, ALs):
        """Train and test metric of these steps.  ALs: (T, n_y, m) their own outputs.

        Mini-batch and dropout steps did not see the whole training set as it is: their
        train metric takes a forward pass over it, like the test metric."""
        data, task = self.data, self.data.info.task
        if self.own_AL:
            self.train[steps] = metric(task, ALs, data.Y_train, self.labels["train"])
        else:
            self.train[steps] = self._evaluate(thetas, data.X_train_ones, data.Y_train,
                                               "train")
        if data.X_test.shape[1]:
            self.test[steps] = self._evaluate(thetas, data.X_test_ones, data.Y_test, "test")

    def _evaluate(self, thetas, X_ones, Y, split):
        """Metric of each θ on (X, Y), in stacked forward passes of as many θs as
        EVALUATE_BYTES allows (a big θ comes alone, from record(), and is not copied)."""
        task, acts, labels = self.data.info.task, self.cfg["activations"], self.labels[split]
        group = max(1, EVALUATE_BYTES // (2 * 8 * X_ones.shape[1] * max(self.layout.dims[1:])))
        values = []
        for k in range(0, len(thetas), group):
            part = thetas[k:k + group]
            stack = part[0][None] if len(part) == 1 else np.stack(part)
            values.append(metric(task, stacked_forward(self.layout, stack, X_ones, acts), Y,
                                 labels))
        return np.concatenate(values)

    def truncate(self, n):
        """Forget everything from step n on (steps after a divergence)."""
        for series in (self.cost, self.train, self.test, self.layers, self.X_max_abs):
            series[n:] = np.nan
        self.recorded = min(self.recorded, n)

    def as_dict(self, n, activations):
        """JSON-ready lists of the first n steps (NaN stays NaN; the web layer nulls it)."""
        regression = self.data.info.task == "regression"
        train, test = self.train[:n].tolist(), self.test[:n].tolist()
        out = {"steps": n, "cost": self.cost[:n].tolist(),
               "epoch": self.epoch[:n].tolist(),
               "train_accuracy": None if regression else train,
               "test_accuracy": None if regression else test}
        if regression:
            out["train_r2"], out["test_r2"] = train, test
        out["X_max_abs"] = self.X_max_abs[:n].tolist()
        out["layers"] = [
            {"l": l + 1, "activation": activations[l],
             **{name: self.layers[:n, l, k].tolist() for name, k in stats.INDEX.items()}}
            for l in range(len(activations))]
        return out

    def nbytes(self):
        """The series, and the chunk buffers while training."""
        # cost, epoch, train, test and X_max_abs: one float a step each
        return self.layers.nbytes + 5 * self.cost.nbytes + self._buffer_bytes

    def peak_nbytes(self):
        """The series with the chunk buffers, as while training (buffers(allocate=True))."""
        buffers = 0
        if self.chunk > 1:
            dims, size = self.layout.dims[1:], self.layout.size
            Z = sum(n * self.m for n in dims)
            A = sum((n + 1) * self.m for n in dims[:-1]) + dims[-1] * self.m
            G, Theta = (self.chunk, self.chunk + 1) if self.stack_parameters else (1, 2)
            buffers = 8 * (self.chunk * (Z + A) + (G + Theta) * size)
        return self.layers.nbytes + 5 * self.cost.nbytes + buffers


def spread_steps(num_steps, snapshots, interval=1):
    """Up to `snapshots` steps spread evenly from 0 to num_steps - 1, both included, the
    inner ones moved to the nearest multiple of `interval` (a checkpoint: replaying such
    a step recomputes that step alone)."""
    last = max(num_steps - 1, 0)
    points = np.linspace(0, last, snapshots)[:-1]
    aligned = np.minimum(np.round(points / interval) * interval, last).astype(int)
    return np.unique(np.append(aligned, last)).tolist()


def histograms(run, steps):
    """Counts over fixed edges for Z, A, dZ, dW per layer at these steps (each replayed),
    and each tensor's exact finite [min, max] ("Z_range", ...): the bins are a quarter
    decade wide, and percentiles read from them alone would spread an all-zero tensor
    over the bin next to 0."""
    names = [*stats.HISTOGRAM_TENSORS, *(f"{name}_range" for name in stats.HISTOGRAM_TENSORS)]
    layers = [{"l": l, **{name: [] for name in names}} for l in range(1, run.L + 1)]
    for t in steps:
        result = run.replay(t)
        for l, entry in enumerate(layers, start=1):
            tensors = {"Z": result.caches[l - 1][1], "A": result.A(l),
                       "dZ": result.grads[f"dZ{l}"], "dW": result.grads[f"dW{l}"]}
            for name in stats.HISTOGRAM_TENSORS:
                counts, extremes = stats.histogram(tensors[name])
                entry[name].append(counts.tolist())
                entry[f"{name}_range"].append(extremes)
    edges = stats.HISTOGRAM_EDGES[1:-1].tolist()
    return {"steps": list(steps), "edges": edges, "layers": layers}
