"""The arrays a run's training steps write into, a chunk of steps at a time.

Step k of a chunk writes its Z[l] and A[l] into row k of the chunk buffers, its dθ into
row k of G, and θ_{t+1} into row k + 1 of the θ rows, where the next step reads it as its
θ_t. The statistics (engine.series) then read a whole chunk from these rows, (T, ...)
views, in a few calls per layer, and nothing is copied. A run allocates them when
training starts and drops them when it ends (engine.run).
"""

import itertools
from typing import NamedTuple

import numpy as np

from engine.fast_step import Buffers, ones_below
from engine.parameter_stats import StepVectors


class Slot(NamedTuple):
    """Step k of a chunk: the Buffers it writes into, and its θ_t as a θ row."""

    buffers: Buffers
    theta: np.ndarray  # θ_t: (P,)
    params: dict  # θ_t's W/b views


class StepBuffers:
    """Chunk buffers for `chunk` steps of m examples each.

    keep_thetas: a chunk's steps keep their θ and dθ until the chunk is summarized (a
    small θ, whose norms are taken on the stacked rows): G holds a dθ per step and the θ
    rows one more than the chunk. Otherwise one dθ and two θ rows, taken in turns, do.
    """

    def __init__(self, layout, chunk, m, keep_thetas):
        dims = layout.dims[1:]
        self.chunk, self.keep_thetas = chunk, keep_thetas
        self.Z = [np.empty((chunk, n, m)) for n in dims]
        # a hidden A[l] sits above a row of ones, as fast_step.forward takes it
        self.A = [ones_below((chunk, n, m)) for n in dims[:-1]] + [np.empty((chunk, dims[-1], m))]
        self.G = np.empty((chunk if keep_thetas else 1, layout.size))
        self.Theta = np.empty((chunk + 1 if keep_thetas else 2, layout.size))
        # views and Slots made once: a small step spends more on making views than on
        # arithmetic. Step k reads θ row k and writes row k + 1 (of two in turns, without
        # keep_thetas)
        thetas = [(theta, layout.views(theta)) for theta in self.Theta]
        self._slots = [
            Slot(Buffers([(Z[k], A[k]) for Z, A in zip(self.Z, self.A, strict=True)], g,
                         layout.views(g), *thetas[(k + 1) % len(thetas)]),
                 *thetas[k % len(thetas)])
            for k, g in zip(range(chunk), itertools.cycle(self.G))]
        self.nbytes = sum(a.nbytes for a in (*self.Z, *self.A, self.G, self.Theta))

    def slot(self, k, theta):
        """The Slot of the chunk's step k (0 ≤ k < chunk), whose θ_t is theta: θ row k holds
        it (step k - 1 wrote it there; step 0 copies it in), and the step writes θ_{t+1}
        into row k + 1 (the two rows in turns, without keep_thetas)."""
        slot = self._slots[k]
        if theta is not slot.theta:
            slot.theta[:] = theta
        return slot

    def outputs(self, T):
        """Z[l] and A[l] of the chunk's first T steps: (T, n_l, m) views, without the ones."""
        return ([Z[:T] for Z in self.Z],
                [A[:T, :Z.shape[1]] for Z, A in zip(self.Z, self.A, strict=True)])

    def vectors(self, T, steps=None):
        """StepVectors of the chunk's first T steps, views of the rows (keep_thetas only);
        steps: the optimizer's steps (T, P), which are not in the buffers, or None."""
        return StepVectors(self.Theta[:T], self.G[:T], steps, self.Theta[1:T + 1])

    @staticmethod
    def planned_nbytes(layout, chunk, m, keep_thetas):
        """The bytes that StepBuffers(layout, chunk, m, keep_thetas) would hold."""
        dims, size = layout.dims[1:], layout.size
        Z = sum(n * m for n in dims)
        A = sum((n + 1) * m for n in dims[:-1]) + dims[-1] * m
        G, Theta = (chunk, chunk + 1) if keep_thetas else (1, 2)
        return 8 * (chunk * (Z + A) + (G + Theta) * size)
