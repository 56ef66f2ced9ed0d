"""Histograms of a run's Z, A, dZ and dW per layer, at chosen steps (each replayed).

The bins are fixed, TensorBoard-style: ±10^k for k in [-6, 3] at 4 bins a decade, and
0, so that the histograms of any step and any tensor share their bins.
"""

import numpy as np

_POSITIVE = 10.0 ** np.linspace(-6, 3, 37)
HISTOGRAM_EDGES = np.concatenate([[-np.inf], -_POSITIVE[::-1], [0.0], _POSITIVE, [np.inf]])
HISTOGRAM_TENSORS = ("Z", "A", "dZ", "dW")


def histogram(X):
    """Counts of X's entries in HISTOGRAM_EDGES' bins (non-finite entries dropped), and
    [min, max] of the finite entries ([NaN, NaN] when there are none)."""
    finite = X[np.isfinite(X)]
    counts, _ = np.histogram(finite, bins=HISTOGRAM_EDGES)
    extremes = [float(finite.min()), float(finite.max())] if finite.size else [np.nan, np.nan]
    return counts, extremes


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
    and each tensor's exact finite [min, max] ("Z_range", ...): the bins are a quarter
    decade wide, and percentiles read from them alone would spread an all-zero tensor
    over the bin next to 0."""
    names = [*HISTOGRAM_TENSORS, *(f"{name}_range" for name in HISTOGRAM_TENSORS)]
    layers = [{"l": l, **{name: [] for name in names}} for l in range(1, run.L + 1)]
    for t in steps:
        result = run.replay(t)
        for l, entry in enumerate(layers, start=1):
            tensors = _tensors(result, l)
            for name in HISTOGRAM_TENSORS:
                counts, extremes = histogram(tensors[name])
                entry[name].append(counts.tolist())
                entry[f"{name}_range"].append(extremes)
    edges = HISTOGRAM_EDGES[1:-1].tolist()
    return {"steps": list(steps), "edges": edges, "layers": layers}
