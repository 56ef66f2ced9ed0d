"""The arrays a run's training steps write into, a chunk of steps at a time.

A step writes every tensor that the statistics read into a row of `rows` (group, S):
each tensor is a segment of the row (RowLayout), so that a few reductions summarize every
tensor of a group of steps at once (engine.stats.TensorReductions). A group's rows fit
the cache (GROUP_BYTES), and the next group writes them again. A step's output A[L]
waits for its chunk's summary in `outputs` (chunk, n_y, m). θ_t and dθ sit side by side in `vectors`
(rows, 2, P): step k reads θ_t from vectors[k, 0], writes dθ into vectors[k, 1] and
θ_{t+1} into vectors[k + 1, 0], where the next step reads it. Nothing is copied for the
statistics but A[L] (engine.series). A run allocates the buffers when training starts
and drops them when it ends (engine.run).
"""

from typing import NamedTuple

import numpy as np

from engine.fast_step import Buffers, GradientOut
from engine.parameter_stats import StepVectors


class RowLayout:
    """Where each tensor of one step of m examples sits in its row: a segment each.

    In this order: every layer's Z[l], one after another (so that the rows of all their
    units follow each other); each A[l], a hidden one with its row of ones right below it
    (fast_step.forward's [A; 1]); then each layer's dZ[l] and dA[l]. dA[L] has a segment
    only with output_dA (training computes it: the output is not fused with its loss).
    dims: the layer widths n_0, ..., n_L.
    """

    def __init__(self, dims, m, output_dA):
        widths, L = dims[1:], len(dims) - 1
        pieces = [("Z", l, n * m) for l, n in enumerate(widths, 1)]
        for l, n in enumerate(widths, 1):
            pieces += [("A", l, n * m)] + ([("ones", l, m)] if l < L else [])
        for l, n in enumerate(widths, 1):
            pieces += [("dZ", l, n * m)] + ([("dA", l, n * m)] if l < L or output_dA else [])
        sizes = [size for *_, size in pieces]
        self.m, self.widths = m, widths
        self.size = sum(sizes)
        self.starts = np.cumsum([0, *sizes[:-1]]).astype(np.intp)  # each segment's
        self.segment = {(name, l): k for k, (name, l, _) in enumerate(pieces)}
        self.ones = [self.start("ones", l) for l in range(1, L)]
        # three regions, as the statistics read them (engine.stats): the Z[l], then the
        # A[l] with the ones (the two a whole number of rows of m), then the gradients
        self.z_end, self.a_end = self.start("A", 1), self.start("dZ", 1)
        first = self.first_gradient = self.segment["dZ", 1]  # the first gradient segment
        self.moment_rows = self.starts[:first] // m  # each Z and A segment's first row
        # (2, L): the segments of the Z[l] and the A[l], which index moment_rows too
        self.moment_columns = np.array([[self.segment[name, l] for l in range(1, L + 1)]
                                        for name in ("Z", "A")])
        # (L, [dZ, dA]): each layer's gradient segments, counted from the first; a dA[L]
        # without a segment points one past the last (engine.stats puts NaN there)
        self.gradient_columns = np.array(
            [[self.segment[name, l] - first if (name, l) in self.segment
              else len(pieces) - first for name in ("dZ", "dA")]
             for l in range(1, L + 1)])
        self.units = np.asarray(widths, dtype=float)  # (L,)

    def start(self, name, l):
        """Where tensor name[l] (Z, A, ones, dZ, dA) starts in a row."""
        return int(self.starts[self.segment[name, l]])

    def tensor(self, rows, name, l, extra=0):
        """Tensor name[l] of each row of rows (T, S): a (T, n_l + extra, m) view;
        extra 1 takes a hidden A[l] with its row of ones."""
        n, start = self.widths[l - 1] + extra, self.start(name, l)
        return rows[:, start:start + n * self.m].reshape(-1, n, self.m)


# a group of steps' rows, reduced together: few enough bytes to stay in the core's cache
# between the steps that write them and the reductions that read them; a group of one
# step if its row is bigger
GROUP_BYTES = 2**20


def group_size(chunk, row_size):
    """Steps whose rows of row_size numbers are reduced together: 1 to chunk."""
    return int(min(chunk, max(1, GROUP_BYTES // (8 * row_size))))


class _Vectors(NamedTuple):
    """A row of StepBuffers.vectors: θ and dθ, and their W/b views."""

    theta: np.ndarray
    theta_views: dict
    grad: np.ndarray
    grad_views: dict


class Slot(NamedTuple):
    """Step k of a chunk: the Buffers it writes into, and its θ_t as a θ row."""

    buffers: Buffers
    theta: np.ndarray  # θ_t: (P,)
    params: dict  # θ_t's W/b views


class StepBuffers:
    """Buffers for chunks of up to `chunk` steps of m examples each, and of an epoch's last
    batch, where it is narrower.

    widths: (m,), or (m, m_last) for an epoch's narrower last batch: such a step writes a
    row of its own width (`last_row`, laid out by `last_layout`), which is reduced at
    once, and joins the chunk of the others.
    keep_thetas: a chunk's steps keep their θ and dθ until the chunk is summarized (a
    small θ, whose norms are taken on the stacked rows): the vectors have a row per step
    and one more for the last θ_{t+1}. Otherwise two rows, taken in turns, do.
    output_dA: training computes dA[L] (RowLayout).
    """

    def __init__(self, layout, chunk, widths, keep_thetas, output_dA):
        m = widths[0]
        self.chunk, self.keep_thetas = chunk, keep_thetas
        self.row_layout = RowLayout(layout.dims, m, output_dA)
        self.group = group_size(chunk, self.row_layout.size)
        self.rows = self._rows(self.group, self.row_layout)
        self.last_layout = self.last_row = None
        if len(widths) > 1:
            self.last_layout = RowLayout(layout.dims, widths[-1], output_dA)
            self.last_row = self._rows(1, self.last_layout)
        self.outputs = np.empty((chunk, layout.dims[-1], m))
        self.vectors = np.empty((chunk + 1 if keep_thetas else 2, 2, layout.size))
        # views and Slots made once: a small step spends more on making views than on
        # arithmetic. Step k writes row k % group (or the last row), reads θ row k and
        # writes θ row k + 1 (of two in turns, without keep_thetas): one array for θ row k
        # as step k - 1's θ_{t+1} and step k's θ_t, which slot() sees is in place
        vectors = [_Vectors(theta, layout.views(theta), g, layout.views(g))
                   for theta, g in self.vectors]
        tensors = [_tensors(row, self.row_layout, layout.L) for row in self.rows]
        self._slots = [self._slot(tensors[k % self.group], vectors, k) for k in range(chunk)]
        if self.last_row is not None:
            last = _tensors(self.last_row[0], self.last_layout, layout.L)
            self._last_slots = [self._slot(last, vectors, k) for k in range(chunk)]
        self.nbytes = sum(a.nbytes for a in (self.rows, self.outputs, self.vectors,
                                             *([] if self.last_row is None else [self.last_row])))

    @staticmethod
    def _rows(count, row_layout):
        """count rows for steps laid out by row_layout, their rows of ones set."""
        rows = np.empty((count, row_layout.size))
        for start in row_layout.ones:
            rows[:, start:start + row_layout.m] = 1.0  # as fast_step.forward takes A
        return rows

    @staticmethod
    def _slot(tensors, vectors, k):
        """The Slot of step k, which writes its tensors into the row's views (tensors),
        reads θ_t from θ row k, writes dθ into dθ row k and θ_{t+1} into θ row k + 1 (of
        vectors, a _Vectors per row, taken in turns)."""
        out, dZ, dA = tensors
        now, later = vectors[k % len(vectors)], vectors[(k + 1) % len(vectors)]
        grads = GradientOut(now.grad_views, dZ, dA)
        buffers = Buffers(out, now.grad, grads, later.theta, later.theta_views)
        return Slot(buffers, now.theta, now.theta_views)

    def slot(self, k, theta, last=False):
        """The Slot of the chunk's step k (0 ≤ k < chunk), whose θ_t is theta: θ row k holds
        it (step k - 1 wrote it there; step 0 copies it in), and the step writes θ_{t+1}
        into row k + 1 (the two rows in turns, without keep_thetas).  last: the step is an
        epoch's narrower last batch, which writes last_row."""
        slot = self._last_slots[k] if last else self._slots[k]
        if theta is not slot.theta:
            slot.theta[:] = theta
        return slot

    def vectors_of(self, T, steps=None):
        """StepVectors of the chunk's first T steps, views of the rows (keep_thetas only);
        steps: the optimizer's steps (T, P), which are not in the buffers, or None."""
        pairs = self.vectors[:T]
        return StepVectors(pairs[:, 0], pairs[:, 1], steps, self.vectors[1:T + 1, 0], pairs)

    @staticmethod
    def planned_nbytes(layout, chunk, widths, keep_thetas, output_dA):
        """The bytes that StepBuffers(layout, chunk, widths, keep_thetas, output_dA) would
        hold."""
        vectors = chunk + 1 if keep_thetas else 2
        size = RowLayout(layout.dims, widths[0], output_dA).size
        last = RowLayout(layout.dims, widths[-1], output_dA).size if len(widths) > 1 else 0
        return 8 * (group_size(chunk, size) * size + last + chunk * layout.dims[-1] * widths[0]
                    + vectors * 2 * layout.size)


def _tensors(row, row_layout, L):
    """Views of a row (S,) laid out by row_layout: (Z[l], A[l]) per layer (a hidden A[l]
    with its row of ones), and the dZ[l] and dA[l] (None where dA[L] has no segment)."""
    row = row[None]

    def tensor(name, l, extra=0):  # (n_l + extra, m)
        return row_layout.tensor(row, name, l, extra)[0]

    out = [(tensor("Z", l), tensor("A", l, l < L)) for l in range(1, L + 1)]
    dZ = [tensor("dZ", l) for l in range(1, L + 1)]
    dA = [tensor("dA", l) if ("dA", l) in row_layout.segment else None for l in range(1, L + 1)]
    return out, dZ, dA
