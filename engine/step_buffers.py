"""The arrays a run's training steps write into, a chunk of steps at a time.

Step k of a chunk writes every tensor that the statistics read into row k of one array,
`tensors` (chunk, S): each tensor is a segment of the row (RowLayout). So one reduceat
over a chunk's rows reduces every tensor of every step, whatever the count of layers:
small networks are bound by the count of NumPy calls, not by arithmetic. θ_t and dθ sit
side by side in `vectors` (rows, 2, P): step k reads θ_t from vectors[k, 0], writes dθ
into vectors[k, 1] and θ_{t+1} into vectors[k + 1, 0], where the next step reads it.
Nothing is copied for the statistics (engine.series). A run allocates the buffers when
training starts and drops them when it ends (engine.run).
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
        # two regions, as the statistics read them (engine.stats): the Z[l] and A[l] with
        # the ones, a whole number of rows of m; then the gradients
        self.z_end, self.a_end = self.start("A", 1), self.start("dZ", 1)
        self.z_starts = self.starts[:L]
        first = self.segment["dZ", 1]  # the first gradient segment
        self.moment_rows = self.starts[:first] // m  # each Z and A segment's first row
        self.moment_columns = np.array([[self.segment[name, l] for l in range(1, L + 1)]
                                        for name in ("Z", "A")])  # (2, L) of moment_rows
        self.gradient_starts = self.starts[first:] - self.a_end
        # (L, [dZ, dA]): each layer's gradient segments, counted from the first; a dA[L]
        # without a segment points one past the last (engine.stats puts NaN there)
        self.gradient_columns = np.array(
            [[self.segment[name, l] - first if (name, l) in self.segment
              else len(self.gradient_starts) for name in ("dZ", "dA")]
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


class Slot(NamedTuple):
    """Step k of a chunk: the Buffers it writes into, and its θ_t as a θ row."""

    buffers: Buffers
    theta: np.ndarray  # θ_t: (P,)
    params: dict  # θ_t's W/b views


class StepBuffers:
    """Chunk buffers for `chunk` steps of m examples each.

    keep_thetas: a chunk's steps keep their θ and dθ until the chunk is summarized (a
    small θ, whose norms are taken on the stacked rows): the vectors have a row per step
    and one more for the last θ_{t+1}. Otherwise two rows, taken in turns, do.
    output_dA: training computes dA[L] (RowLayout).
    """

    def __init__(self, layout, chunk, m, keep_thetas, output_dA):
        self.chunk, self.keep_thetas = chunk, keep_thetas
        self.row_layout = RowLayout(layout.dims, m, output_dA)
        self.tensors = np.empty((chunk, self.row_layout.size))
        for start in self.row_layout.ones:
            self.tensors[:, start:start + m] = 1.0  # as fast_step.forward takes A
        self.vectors = np.empty((chunk + 1 if keep_thetas else 2, 2, layout.size))
        # views and Slots made once: a small step spends more on making views than on
        # arithmetic. Step k reads θ row k and writes row k + 1 (of two in turns, without
        # keep_thetas)
        rows = len(self.vectors)
        self._slots = [self._slot(layout, self.tensors[k], self.vectors[k % rows],
                                  self.vectors[(k + 1) % rows, 0]) for k in range(chunk)]
        self.nbytes = self.tensors.nbytes + self.vectors.nbytes

    def _slot(self, layout, row, vectors, new_theta):
        """The Slot of a step that writes its tensors into row (S,), reads θ_t from
        vectors[0], writes dθ into vectors[1] and θ_{t+1} into new_theta."""
        L, tensors = layout.L, row[None]

        def tensor(name, l, extra=0):  # a view of the row: (n_l + extra, m)
            return self.row_layout.tensor(tensors, name, l, extra)[0]

        out = [(tensor("Z", l), tensor("A", l, l < L)) for l in range(1, L + 1)]
        dZ = [tensor("dZ", l) for l in range(1, L + 1)]
        dA = [tensor("dA", l) if ("dA", l) in self.row_layout.segment else None
              for l in range(1, L + 1)]
        theta, g = vectors
        grads = GradientOut(layout.views(g), dZ, dA)
        buffers = Buffers(out, g, grads, new_theta, layout.views(new_theta))
        return Slot(buffers, theta, layout.views(theta))

    def slot(self, k, theta):
        """The Slot of the chunk's step k (0 ≤ k < chunk), whose θ_t is theta: θ row k holds
        it (step k - 1 wrote it there; step 0 copies it in), and the step writes θ_{t+1}
        into row k + 1 (the two rows in turns, without keep_thetas)."""
        slot = self._slots[k]
        if theta is not slot.theta:
            slot.theta[:] = theta
        return slot

    def vectors_of(self, T, steps=None):
        """StepVectors of the chunk's first T steps, views of the rows (keep_thetas only);
        steps: the optimizer's steps (T, P), which are not in the buffers, or None."""
        pairs = self.vectors[:T]
        return StepVectors(pairs[:, 0], pairs[:, 1], steps, self.vectors[1:T + 1, 0], pairs)

    @staticmethod
    def planned_nbytes(layout, chunk, m, keep_thetas, output_dA):
        """The bytes that StepBuffers(layout, chunk, m, keep_thetas, output_dA) would hold."""
        rows = chunk + 1 if keep_thetas else 2
        return 8 * (chunk * RowLayout(layout.dims, m, output_dA).size + rows * 2 * layout.size)
