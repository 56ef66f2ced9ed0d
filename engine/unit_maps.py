"""What each hidden unit has learned: A[l] of θ_t over a coarse grid of the input plane,
one small map per unit, quantised to bytes (the page draws them as thumbnails, as
TensorFlow Playground draws its neurons). 2-D data only.

The grid is the decision boundary's (engine.boundary.grid_axes): it spans every training
and test example, padded, and stays put from step to step. The maps come from the training
forward pass (engine.fast_step.network_output) with θ_t, without dropout, through layers 1..l.

Encoding: each unit's map is quantised on its own range, lo and hi of its finite values:
byte k in 0..LEVELS stands for lo + (hi - lo) · k / LEVELS, so a value comes back within
(hi - lo) / (2 · LEVELS) of itself; byte NON_FINITE (255) marks NaN or ±∞ (a diverged run).
Per unit rather than shared, so that a unit whose values span 0.01 beside one that spans
10 still gets all the levels; the page decodes the values and colours every thumbnail on one
shared scale, so colours compare across units all the same.

Budget per step change: at most MAX_UNITS maps of DEFAULT_RESOLUTION² bytes, 8 × 24 × 24 =
4,608 bytes, 6,144 characters of base64; with its ranges the JSON answer stays under
UNITS_BUDGET_BYTES (7,000 bytes) before gzip, about 3 KB gzipped on the wire
(tests/test_units_route.py holds the default moons run to both).
"""

import numpy as np

from engine.boundary import grid_axes, grid_points
from engine.fast_step import network_output

MIN_RESOLUTION, MAX_RESOLUTION, DEFAULT_RESOLUTION = 2, 64, 24
MAX_UNITS = 8
LEVELS = 254  # bytes 0..254 carry values
NON_FINITE = 255  # the byte of NaN, inf and -inf
UNITS_BUDGET_BYTES = 7000  # one answer at the defaults, as JSON before gzip
UNITS_BUDGET_GZIP_BYTES = 3500  # the same answer gzipped, as it goes over the wire


def hidden_activations(params, activations, X, layer):
    """A[layer] (n_layer, k) at the points X (n_x, k): the training forward pass through
    layers 1..layer only, without dropout (the last of them is not given a mask)."""
    first = {f"{name}{l}": params[f"{name}{l}"] for l in range(1, layer + 1) for name in "Wb"}
    return network_output(X, first, activations[:layer])


def value_range(A):
    """(lo, hi) of each row's finite values: (n,), (n,); NaN for a row with none."""
    finite = np.isfinite(A)
    lo = np.where(finite, A, np.inf).min(axis=1)
    hi = np.where(finite, A, -np.inf).max(axis=1)
    none = ~finite.any(axis=1)
    return np.where(none, np.nan, lo), np.where(none, np.nan, hi)


def quantise(A):
    """Each row of A (n, k) to bytes on its own range: codes (n, k) uint8, lo (n,), hi (n,).

    Halves keep hi - lo finite when a diverged unit spans most of the float range."""
    lo, hi = value_range(A)
    half_span = hi[:, None] / 2 - lo[:, None] / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        position = np.where(half_span > 0, (A / 2 - lo[:, None] / 2) / half_span, 0.0)
    codes = np.rint(np.clip(position, 0.0, 1.0) * LEVELS)
    codes = np.where(np.isfinite(A), codes, NON_FINITE).astype(np.uint8)
    return codes, lo, hi


def dequantise(codes, lo, hi):
    """The values that codes (n, k) stand for, NaN where NON_FINITE: (n, k).
    lo (1 - f) + hi f with f = code / LEVELS, which never overflows (the page does the same)."""
    f = codes.astype(float) / LEVELS
    with np.errstate(invalid="ignore"):
        values = lo[:, None] * (1 - f) + hi[:, None] * f
    return np.where(codes == NON_FINITE, np.nan, values)


def check_request(info, L, layer, units, resolution):
    """A ValueError whose message starts with the field at fault, unless 2-D data, a
    hidden layer, at most MAX_UNITS units of it, and a resolution within the bounds."""
    if info.n_x != 2:
        raise ValueError(f"dataset: unit maps cover the input plane of 2-D data; "
                         f"{info.name} has {info.n_x} features")
    if L < 2:
        raise ValueError("layer: this network has no hidden layer")
    if not 1 <= layer <= L - 1:
        raise ValueError(f"layer: this network's hidden layers are 1 to {L - 1}, got {layer}")
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"resolution: must be an integer from {MIN_RESOLUTION} to "
                         f"{MAX_RESOLUTION}, got {resolution}")
    if units is not None and not 1 <= len(units) <= MAX_UNITS:
        raise ValueError(f"units: 1 to {MAX_UNITS} units a request, got {len(units)}")


def unit_maps(run, t, layer, units=None, resolution=DEFAULT_RESOLUTION):
    """{"step", "layer", "activation", "resolution", "x", "y", "units"} of step t
    (docs/api.md): x and y the grid's first and last points; per unit of `units` (default:
    the layer's first MAX_UNITS) {"unit", "lo", "hi", "codes"}, codes (R·R,) uint8 with
    row i at y[i] (ascending) after row i - 1, column j at x[j]."""
    activations = run.config["activations"]
    check_request(run.data.info, len(activations), layer, units, resolution)
    params = run.replay(t).forward.params
    width = params[f"W{layer}"].shape[0]
    units = list(range(min(width, MAX_UNITS))) if units is None else list(units)
    if not all(0 <= i < width for i in units):
        raise ValueError(f"units: layer {layer} has units 0 to {width - 1}, got {units}")
    x, y = grid_axes(run.data, resolution)
    with np.errstate(all="ignore"):  # a diverged θ gives inf and NaN: the NON_FINITE byte
        A = hidden_activations(params, activations, grid_points(x, y), layer)
    codes, lo, hi = quantise(A[units])
    return {"step": t, "layer": layer, "activation": activations[layer - 1],
            "resolution": resolution, "x": [x[0], x[-1]], "y": [y[0], y[-1]],
            "units": [{"unit": i, "lo": lo[k], "hi": hi[k], "codes": codes[k]}
                      for k, i in enumerate(units)]}
