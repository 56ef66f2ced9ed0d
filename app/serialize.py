"""The one place that turns arrays and records into JSON bytes.

orjson writes doubles as their shortest round-trip repr (full precision) and writes NaN,
inf and -inf as null, for Python floats and NumPy arrays alike, so no `NaN` literal can
leave the server. Arrays go to orjson directly (OPT_SERIALIZE_NUMPY), never through
Python lists, which is what keeps a large step record fast.
"""

import math

import numpy as np
import orjson
from fastapi.responses import JSONResponse

OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def block_factors(shape, max_cells):
    """(row, column) block sizes that bring shape (R, C) to at most max_cells cells.

    The smallest equal factor f that fits keeps the aspect ratio; then one axis may use
    a smaller factor if that still fits, which keeps more cells (e.g. the few units of a
    layer stay whole while its examples are averaged).
    """
    R, C = shape
    if max_cells >= R * C:
        return 1, 1
    f = max(1, math.isqrt(R * C // max_cells))
    while -(-R // f) * -(-C // f) > max_cells:
        f += 1
    rows_only = (_smallest_fit(R, -(-C // f), max_cells), f)
    cols_only = (f, _smallest_fit(C, -(-R // f), max_cells))
    fr, fc = max(rows_only, cols_only, key=lambda fs: -(-R // fs[0]) * -(-C // fs[1]))
    return min(fr, R), min(fc, C)


def _smallest_fit(n, other_blocks, max_cells):
    """Smallest factor k with ceil(n / k) * other_blocks <= max_cells."""
    return -(-n // (max_cells // other_blocks))


def block_mean(X, fr, fc):
    """Mean of each fr x fc block of X; the last row and column of blocks may be smaller.

    X: (R, C) -> (ceil(R/fr), ceil(C/fc)). Summing fc strided column slices, then fr
    strided row slices, is several times faster than np.add.reduceat on small blocks.
    """
    R, C = X.shape
    cols = X[:, 0::fc].copy()
    for k in range(1, fc):
        part = X[:, k::fc]
        cols[:, :part.shape[1]] += part
    sums = cols[0::fr].copy()
    for k in range(1, fr):
        part = cols[k::fr]
        sums[:part.shape[0]] += part
    r, c = sums.shape
    counts = np.outer(np.minimum(fr, R - fr * np.arange(r)), np.minimum(fc, C - fc * np.arange(c)))
    return sums / counts


def tensor(X, max_cells=None):
    """A tensor as docs/api.md gives it: {"shape", "data"} rows, block-averaged to at most
    max_cells cells."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        X = X.reshape(X.shape[0] if X.ndim else 1, -1)
    fr, fc = (1, 1) if max_cells is None else block_factors(X.shape, max_cells)
    if (fr, fc) == (1, 1):
        return {"shape": list(X.shape), "data": np.ascontiguousarray(X)}
    with np.errstate(all="ignore"):  # a block holding inf and -inf averages to NaN: null
        small = block_mean(X, fr, fc)
    return {"shape": list(small.shape), "data": small, "downsampled_from": list(X.shape)}


def with_tensors(obj, max_cells=None, whole=(), _seen=None):
    """A copy of a record where every ndarray is a tensor dict; the arrays under a key in
    `whole` (one example's columns) stay full size whatever max_cells says.

    A record shares arrays (A_prev of layer l is A of layer l-1; X is A_prev of layer 1
    in full batch), so each array is converted once and its tensor reused.
    """
    seen = {} if _seen is None else _seen
    if isinstance(obj, np.ndarray):
        if (id(obj), max_cells) not in seen:
            seen[id(obj), max_cells] = tensor(obj, max_cells)
        return seen[id(obj), max_cells]
    if isinstance(obj, dict):
        return {k: with_tensors(v, None if k in whole else max_cells, whole, seen)
                for k, v in obj.items()}
    if isinstance(obj, list | tuple) and obj and isinstance(obj[0], dict | list | np.ndarray):
        return [with_tensors(v, max_cells, whole, seen) for v in obj]
    return obj  # scalars, and lists of scalars such as the batch indices


def dumps(content) -> bytes:
    """JSON bytes; NumPy arrays and scalars allowed, non-finite floats become null."""
    return orjson.dumps(content, option=OPTIONS)


class JSONBytes(JSONResponse):
    """application/json rendered by orjson: full precision, never a NaN literal.

    A JSONResponse subclass, so that FastAPI documents each route's response_model in
    /openapi.json (for any other class it writes {"type": "string"})."""

    media_type = "application/json"

    def render(self, content) -> bytes:
        return dumps(content)
