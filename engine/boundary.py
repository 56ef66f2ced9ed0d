"""The model's output over a grid that spans the data: the decision boundary of 2-D
classification and the fitted curve of 1-D regression, at step t.

The outputs come from the training forward pass (engine.fast_step.network_output) with θ_t,
without dropout, so the page draws the engine's numbers. The grid spans every training and
test example, padded by PADDING of each feature's range: it depends on the data alone, so
it stays put from step to step.
"""

import numpy as np

from engine.fast_step import network_output

PADDING = 0.12
MIN_RESOLUTION, MAX_RESOLUTION, DEFAULT_RESOLUTION = 2, 200, 60
# a forward pass keeps every layer's Z and A: at most this many bytes of them at once
FORWARD_BYTES = 16 * 2**20


def boundary_kind(info):
    """"classification" (2-D binary), "multiclass" (2-D), "regression" (1-D), or "none":
    data with more features has no grid to draw."""
    if info.task == "regression":
        return "regression" if info.n_x == 1 else "none"
    if info.n_x != 2:
        return "none"
    return "classification" if info.task == "binary" else "multiclass"


def grid_axes(data, resolution):
    """(n_x, R): R evenly spaced values across each feature's range over every training
    and test example, padded by PADDING of that range on both sides."""
    X = np.concatenate([data.X_train, data.X_test], axis=1)
    low, high = X.min(axis=1), X.max(axis=1)
    pad = PADDING * np.where(high > low, high - low, 1.0)
    return np.linspace(low - pad, high + pad, resolution, axis=1)


def grid_points(x, y):
    """Every point (x[j], y[i]) of the grid, row i after row i - 1: (2, R·R)."""
    xx, yy = np.meshgrid(x, y)
    return np.stack([xx.ravel(), yy.ravel()])


def outputs(params, activations, X):
    """AL (n_y, k) of the network at the points X (n_x, k), without dropout: the training
    forward pass, a slice of points at a time (its caches hold every layer's Z and A)."""
    widths = sum(W.shape[0] for name, W in params.items() if name.startswith("W"))
    step = max(1, FORWARD_BYTES // (16 * widths))
    parts = [network_output(X[:, k:k + step], params, activations)
             for k in range(0, X.shape[1], step)]
    return np.concatenate(parts, axis=1)


def top_class(AL):
    """Each column's class (argmax) and its output; both NaN where a column is not finite.
    AL: (n_y, k) -> (k,), (k,)."""
    finite = np.isfinite(AL).all(axis=0)
    classes = np.where(finite, AL.argmax(axis=0), np.nan)
    return classes, np.where(finite, AL.max(axis=0), np.nan)


def check_resolution(resolution):
    """A ValueError naming resolution unless it is from MIN_ to MAX_RESOLUTION."""
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"resolution: must be an integer from {MIN_RESOLUTION} to "
                         f"{MAX_RESOLUTION}, got {resolution}")


def boundary(run, t, resolution=DEFAULT_RESOLUTION):
    """{"step", "kind", "x", "y", "output", "probability"} of step t (docs/api.md).

    2-D binary: output (R, R) is P(y=1) at (x[j], y[i]); 2-D multiclass: output is the
    predicted class and probability the top class's output; 1-D regression: output
    (1, R) is the prediction at x[j]; kind "none": no grid.
    """
    check_resolution(resolution)
    kind = boundary_kind(run.data.info)
    answer = {"step": t, "kind": kind}
    if kind == "none":
        return answer
    params, activations = run.replay(t).forward.params, run.config["activations"]
    axes = grid_axes(run.data, resolution)
    with np.errstate(all="ignore"):  # a diverged θ gives inf and NaN: null in the answer
        if kind == "regression":
            return {**answer, "x": axes[0].tolist(), "output": outputs(params, activations, axes)}
        x, y = axes
        AL = outputs(params, activations, grid_points(x, y))
    answer.update(x=x.tolist(), y=y.tolist())
    if kind == "classification":
        return {**answer, "output": AL.reshape(resolution, resolution)}
    classes, probability = top_class(AL)
    return {**answer, "output": classes.reshape(resolution, resolution),
            "probability": probability.reshape(resolution, resolution)}
