"""A run's per-step summaries: cost, scores (accuracy or R², engine.step_scores) and every
layer's statistics.

Arrays hold one row per step, NaN where not measured. Steps are summarized a chunk at a
time: a training step writes its tensors, θ and dθ into a run's buffers
(engine.step_buffers) and is queued here, its tensors reduced at once
(engine.stats.TensorReductions); when the chunk is full, the statistics of all its steps
come in a few calls (engine.stats, engine.parameter_stats). A step counts as recorded
once its chunk is summarized.
"""

from typing import NamedTuple

import numpy as np

from engine import parameter_stats, stats
from engine.batches import batch_size_at
from engine.losses import FUSED
from engine.mistakes import bug_active
from engine.parameter_stats import StepVectors
from engine.step_buffers import RowLayout


class Alone(NamedTuple):
    """The numbers of an epoch's narrower last batch that the others of its chunk take
    together, taken when it is queued: its output and batch do not stack with theirs."""

    m: int  # the batch's width
    batch: float  # the score on its batch
    X_max_abs: float
    dA_max_abs: float  # max |dA[L]| where training left dA[L] out; else NaN


class QueuedStep(NamedTuple):
    """What a step leaves for its chunk's summary, beside its tensors' reductions, its
    output, θ and dθ in the chunk buffers (engine.step_buffers)."""

    t: int
    cost: float
    epoch: int
    indices: np.ndarray | None  # the batch's examples; None: the whole training set
    Y: np.ndarray | None  # the batch's targets (n_y, m); None: the whole training set's
    step: np.ndarray | None  # the optimizer's step, where step_scale does not give it
    alone: Alone | None = None  # an epoch's narrower last batch: what does not stack


def _own_vectors(result):
    """The StepVectors of one step (engine.step.StepResult), (1, P) views of its arrays."""
    forward, backward, update = result
    return StepVectors(forward.theta[None], backward.g[None], update.step[None],
                       update.new_theta[None])


class Series:
    """The summaries of a run of a normalized config, its ParamLayout and Dataset, with
    the run's StepScores (whose per-step numbers the summaries carry)."""

    def __init__(self, cfg, layout, data, scores):
        self.cfg, self.layout, self.data, self.task = cfg, layout, data, data.info.task
        steps = cfg["steps"]
        self.cost, self.X_max_abs = np.full(steps, np.nan), np.full(steps, np.nan)
        self.epoch = np.zeros(steps, dtype=np.int64)
        self.layers = np.full((steps, layout.L, len(stats.LAYER_STATS)), np.nan)
        # max |X| of a batch, from each example's max |x| (m_train,)
        self._example_max_abs = np.abs(data.X_train).max(axis=0, initial=0.0)
        self._all_max_abs = self._example_max_abs.max(initial=0.0)
        self.scores = scores
        # training leaves dA[L] out where dZ[L] = A - Y: its range comes from a chunk's
        # outputs and targets
        self.output_dA_left_out = (cfg["activations"][-1], cfg["loss"]) in FUSED
        # gradient descent steps α·dθ: their norms are α·‖dθ‖ (parameter_stats)
        self.step_scale = cfg["learning_rate"] if cfg["optimizer"] == "gd" else None
        # small θ: norms of a chunk's steps in a few calls on the stacked rows
        self.stack_parameters = layout.size <= stats.FEW_PARAMETERS
        # steps summarized together, of m examples each (or an epoch's narrower last
        # batch), and their tensors' reductions while they wait
        self.m = m = batch_size_at(0, data.X_train.shape[1], cfg["batch_size"])
        self.chunk = stats.chunk_size(layout, m)
        # (a mistake backpropagates through dA[L] g′(Z[L]), as the course's code does)
        self._reductions = stats.TensorReductions(
            RowLayout(layout.dims, m, not self.output_dA_left_out), cfg["activations"],
            cfg["keep_prob"] < 1.0, self.chunk,
            fused_output=self.output_dA_left_out and not bug_active(cfg))
        # what stands in the stacks of a chunk's batches, targets and outputs where an
        # epoch's narrower last batch sits: finite, untied (class 0), and overwritten
        placeholder = np.zeros((data.info.n_y, m))
        placeholder[0] = 1.0
        self._no_batch = (np.zeros(m, dtype=np.intp), placeholder)
        self.recorded = 0  # steps summarized so far
        self._queue, self._reduced = [], 0  # queued steps, and how many are reduced
        self._close = []  # (t, l, "Z" or "A") of the last flush, for measure_close

    @property
    def queued(self):
        """Steps waiting for their chunk's summary."""
        return len(self._queue)

    def queue(self, t, result, buffers, last=False):
        """Queue step t, whose tensors, θ and dθ sit in buffers (engine.step_buffers.
        StepBuffers: its Slot's).  Its output A[L] waits in the chunk's outputs; its
        tensors are reduced with its group's, whose rows the next group writes again.
        last: an epoch's narrower last batch, which wrote the last row: reduced now, with
        the numbers that do not stack taken now (Alone)."""
        k = len(self._queue)
        entry = self._enter(t, result)
        if last:
            self._reduce_rows(buffers, k)  # the group's steps before it
            self._reductions.reduce(k, buffers.last_row, buffers.last_layout)
            self._reduced = k + 1
            entry = entry._replace(alone=self._alone(result.forward))
            np.copyto(buffers.outputs[k], self._no_batch[1])
        else:
            np.copyto(buffers.outputs[k], result.forward.AL)
            if (k + 1) % buffers.group == 0:
                self._reduce_rows(buffers, k + 1)
        self._queue.append(entry)

    def _reduce_rows(self, buffers, end):
        """Reduce the rows of the queued steps not reduced yet, up to step end (excluded):
        steps of one group, which wrote rows k % group."""
        start = self._reduced
        if end > start:
            first = start % buffers.group
            self._reductions.reduce(start, buffers.rows[first:first + end - start],
                                    buffers.row_layout)
        self._reduced = end

    def _alone(self, forward):
        """The Alone numbers of a step's Forward."""
        AL, Y, batches = forward.AL[None], forward.Y[None], forward.indices[None]
        dA = stats.output_dA_max_abs(self.cfg["loss"], AL, Y)[0] if self.output_dA_left_out \
            else np.nan
        return Alone(forward.Y.shape[1], self.scores.of_batch(AL, Y, batches)[0],
                     self._X_max_abs(batches)[0], dA)

    def flush(self, buffers):
        """Summarize the queued steps from the buffers they wrote into.  Returns the
        summarized steps whose numbers are not all finite."""
        queue, self._queue = self._queue, []
        if not queue:
            return []
        T = len(queue)
        self._reduce_rows(buffers, T)
        self._reduced = 0
        vectors = None
        if self.stack_parameters:
            steps = None if self.step_scale is not None else np.stack([q.step for q in queue])
            vectors = buffers.vectors_of(T, steps)
        return self._summarize(queue, buffers.outputs[:T], buffers.row_layout, vectors)

    def _enter(self, t, result):
        """Step t's QueuedStep.  A big θ has its norms and scores taken now, so that no
        θ-sized array waits for the chunk."""
        forward, update = result.forward, result.update
        Y = None if self.scores.full_batch else forward.Y
        if not self.stack_parameters:
            batches = None if forward.indices is None else forward.indices[None]
            self._parameters(slice(t, t + 1), _own_vectors(result), forward.AL[None],
                             self.data.Y_train if Y is None else Y[None], batches)
        step = update.step if self.step_scale is None and self.stack_parameters else None
        return QueuedStep(t, forward.cost, forward.epoch, forward.indices, Y, step)

    def _summarize(self, queue, ALs, layout, vectors):
        """Write the rows of consecutive QueuedSteps, whose tensors are the first T
        reductions; ALs: their outputs (T, n_y, m); layout: their step_buffers.RowLayout;
        vectors: their StepVectors (read for a small θ only)."""
        span = slice(queue[0].t, queue[-1].t + 1)  # the steps, consecutive
        rows, widths = self.layers[span], np.full(len(queue), float(self.m))
        alone = [(k, q.alone) for k, q in enumerate(queue) if q.alone is not None]
        for k, numbers in alone:
            widths[k] = numbers.m
        with np.errstate(all="ignore"):
            self._reductions.fill(rows, layout, widths)
            self._close = [(span.start + k, l, name) for k, l, name in self._reductions.close]
            self.cost[span] = [q.cost for q in queue]
            self.epoch[span] = [q.epoch for q in queue]
            batches = Y = None  # the whole training set
            if not self.scores.full_batch:  # an Alone step's place holds the placeholders
                batches, Y = (np.stack(stack) for stack in zip(
                    *[self._no_batch if q.alone else (q.indices, q.Y) for q in queue], strict=True))
            self.X_max_abs[span] = self._X_max_abs(batches)
            Y = self.data.Y_train if Y is None else Y
            if self.stack_parameters:
                self._parameters(span, vectors, ALs, Y, batches)
            if self.output_dA_left_out:
                rows[:, -1, stats.INDEX["dA_max_abs"]] = stats.output_dA_max_abs(
                    self.cfg["loss"], ALs, Y)
            for k, numbers in alone:
                self.scores.batch[span.start + k] = numbers.batch
                self.X_max_abs[span.start + k] = numbers.X_max_abs
                if self.output_dA_left_out:
                    rows[k, -1, stats.INDEX["dA_max_abs"]] = numbers.dA_max_abs
        finite = np.isfinite(self.cost[span]) & \
            np.isfinite(rows[:, :, stats.MUST_BE_FINITE]).all(axis=(1, 2))
        self.recorded = span.stop
        return (span.start + np.flatnonzero(~finite)).tolist()

    def _X_max_abs(self, batches):
        """max |X| of consecutive steps' batches from their examples (T, m); None: the
        whole training set."""
        if batches is None:
            return self._all_max_abs
        return self._example_max_abs[batches].max(axis=1)

    def _parameters(self, span, vectors, ALs, Y, batches):
        """Norms and scores of the steps of a span (a slice of consecutive steps) from their
        StepVectors, outputs ALs (T, n_y, m), targets Y (the training set's (n_y, m), or each
        step's batch's, (T, n_y, m)) and examples (see StepScores.fill)."""
        with np.errstate(all="ignore"):
            parameter_stats.fill_parameters(self.layers[span], vectors, self.layout,
                                            self.step_scale)
            self.scores.fill(span, vectors.thetas, ALs, Y, batches)

    def measure_close(self, forward_of):
        """The std of each Z[l] and A[l] of the steps summarized last whose std is tiny
        beside their size (engine.stats.CLOSE), or whose Σx² overflowed, from its entries:
        E[x²] − mean² would cancel, or be ∞ − ∞ (and the mean too, where Σx overflowed).
        forward_of(t): step t's Forward, replayed (the reductions watch these tensors from
        the next chunk on, and measure them themselves)."""
        for t, l, name in self._close:
            forward = forward_of(t)
            x = forward.caches[l - 1][1] if name == "Z" else forward.A(l)
            mean, std = stats.entries_moments(x.reshape(1, -1))
            row = self.layers[t, l - 1]
            row[stats.INDEX[f"{name}_std"]] = std[0]
            if not np.isfinite(row[stats.INDEX[f"{name}_mean"]]):
                row[stats.INDEX[f"{name}_mean"]] = mean[0]
        self._close = []

    def measure_gradients(self, t, result):
        """Step t's statistics of its gradients and update again, from its StepResult
        replayed: a diverged step, where training's ReLU derivative gave NaN (inf·0) and
        the replay, as the course, gives 0 (engine.fast_step.relu_derivative_into)."""
        grads, row = result.backward.grads, self.layers[t:t + 1]
        with np.errstate(all="ignore"):
            parameter_stats.fill_parameters(row, _own_vectors(result), self.layout,
                                            self.step_scale)
            for l in range(1, self.layout.L + 1):
                for name in ("dZ", "dA"):
                    if grads.get(f"{name}{l}") is not None:  # dA[L] left out: as it was
                        row[0, l - 1, stats.INDEX[f"{name}_max_abs"]] = \
                            stats.max_abs(grads[f"{name}{l}"])

    def truncate(self, n):
        """Forget everything from step n on (steps after a divergence)."""
        for series in (self.cost, self.layers, self.X_max_abs):
            series[n:] = np.nan
        self.scores.truncate(n)
        self.recorded = min(self.recorded, n)

    def as_dict(self, n):
        """JSON-ready lists of the first n steps (NaN stays NaN; the web layer nulls it)."""
        out = {"steps": n, "cost": self.cost[:n].tolist(), "epoch": self.epoch[:n].tolist(),
               **self.scores.as_dict(n)}
        out["X_max_abs"] = self.X_max_abs[:n].tolist()
        activations = self.cfg["activations"]
        out["layers"] = [
            {"l": l + 1, "activation": activations[l],
             **{name: self.layers[:n, l, k].tolist() for name, k in stats.INDEX.items()}}
            for l in range(len(activations))]
        return out

    def end_training(self):
        """Drop what only training needs: the reductions of queued steps."""
        self._reductions = None

    def nbytes(self):
        """The arrays of the series, and the reductions of queued steps while training."""
        reductions = self._reductions  # read once: training may drop them meanwhile
        return (0 if reductions is None else reductions.nbytes) + self.scores.nbytes + sum(
            a.nbytes for a in (self.cost, self.epoch, self.X_max_abs, self.layers))
