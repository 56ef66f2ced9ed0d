"""Histograms of a run's Z, A, dZ and dW per layer, at chosen steps (each replayed).

The bins are fixed, TensorBoard-style: ±10^k for k in [-6, 3] at 4 bins a decade, and
0, so that the histograms of any step and any tensor share their bins. Beside them, each
tensor's exact percentiles at TensorBoard's PERCENTILES: the bins say nothing of where in
(1000, ∞) the entries of a diverging run's gradients lie, nor where in a quarter decade.
"""

from typing import NamedTuple

import numpy as np

_POSITIVE = 10.0 ** np.linspace(-6, 3, 37)
HISTOGRAM_EDGES = np.concatenate([[-np.inf], -_POSITIVE[::-1], [0.0], _POSITIVE, [np.inf]])
HISTOGRAM_TENSORS = ("Z", "A", "dZ", "dW")
# what the histograms give of each tensor beside its counts, per step: "Z_range", ...
BESIDE_COUNTS = ("range", "percentiles", "non_finite")
# TensorBoard's bands: the normal distribution's 0, ±1.5σ, ±σ, ±σ/2 and median, in %
PERCENTILES = (0.0, 6.68, 15.87, 30.85, 50.0, 69.15, 84.13, 93.32, 100.0)


class Histogram(NamedTuple):
    counts: np.ndarray  # per bin of HISTOGRAM_EDGES
    extremes: list  # [min, max] of the finite entries, [NaN, NaN] when there are none
    percentiles: list  # the finite entries' values at PERCENTILES (NaN each when none)
    non_finite: int  # entries left out: NaN, inf or -inf


def histogram(X):
    """What the histograms hold of tensor X, from one sort of its finite entries
    (non-finite ones are dropped, and counted): its counts in HISTOGRAM_EDGES' bins (as
    np.histogram counts them: each bin [low, high), the last closed), [min, max] and its
    values at PERCENTILES."""
    ordered = X[np.isfinite(X)]  # a copy, flat
    ordered.sort()
    below = np.searchsorted(ordered, HISTOGRAM_EDGES[:-1])  # entries below each lower edge
    counts = np.diff(np.append(below, ordered.size))
    left_out = int(X.size - ordered.size)
    if not ordered.size:
        return Histogram(counts, [np.nan, np.nan], [np.nan] * len(PERCENTILES), left_out)
    return Histogram(counts, [float(ordered[0]), float(ordered[-1])], _percentiles(ordered),
                     left_out)


def _percentiles(ordered):
    """ordered's values at PERCENTILES, linear between neighbours (NumPy's default method),
    each a weighted mean of two finite entries, which cannot overflow as their difference
    can."""
    position = np.array(PERCENTILES) / 100 * (ordered.size - 1)
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, ordered.size - 1)
    weight = position - low
    return (ordered[low] * (1 - weight) + ordered[high] * weight).tolist()


def spread_steps(num_steps, snapshots, interval=1):
    """Up to `snapshots` steps spread evenly from 0 to num_steps - 1, both included, the
    inner ones moved to the nearest multiple of `interval` (a checkpoint: replaying such
    a step recomputes that step alone)."""
    last = max(num_steps - 1, 0)
    points = np.linspace(0, last, snapshots)[:-1]
    aligned = np.minimum(np.round(points / interval) * interval, last).astype(int)
    return np.unique(np.append(aligned, last)).tolist()


def _tensors(result, l):
    """Layer l's HISTOGRAM_TENSORS in a replayed step (engine.step.StepResult)."""
    forward, grads = result.forward, result.backward.grads
    return {"Z": forward.caches[l - 1][1], "A": forward.A(l), "dZ": grads[f"dZ{l}"],
            "dW": grads[f"dW{l}"]}


def histograms(run, steps):
    """Counts over fixed edges for Z, A, dZ, dW per layer at these steps (each replayed),
    each tensor's exact finite [min, max] ("Z_range", ...), its exact percentiles
    ("Z_percentiles", ...) and how many of its entries are not finite ("Z_non_finite",
    left out of the rest): the bins are a quarter decade wide and end at ±1000, and
    percentiles read from them alone would spread an all-zero tensor over the bin next
    to 0, and hold a diverging gradient's at ±1000."""
    names = [*HISTOGRAM_TENSORS, *(f"{name}_{kind}" for kind in BESIDE_COUNTS
                                   for name in HISTOGRAM_TENSORS)]
    layers = [{"l": l, **{name: [] for name in names}} for l in range(1, run.L + 1)]
    for t in steps:
        result = run.replay(t)
        for l, entry in enumerate(layers, start=1):
            tensors = _tensors(result, l)
            for name in HISTOGRAM_TENSORS:
                found = histogram(tensors[name])
                entry[name].append(found.counts.tolist())
                entry[f"{name}_range"].append(found.extremes)
                entry[f"{name}_percentiles"].append(found.percentiles)
                entry[f"{name}_non_finite"].append(found.non_finite)
    edges = HISTOGRAM_EDGES[1:-1].tolist()
    return {"steps": list(steps), "edges": edges, "percentiles": list(PERCENTILES),
            "layers": layers}
