"""The one place that turns arrays and records into JSON bytes.

orjson writes doubles as their shortest round-trip repr (full precision) and writes NaN,
inf and -inf as null, for Python floats and NumPy arrays alike, so no `NaN` literal can
leave the server. Arrays go to orjson directly (OPT_SERIALIZE_NUMPY), never through
Python lists, which is what keeps a large step record fast.

A client that only draws may ask for a lean Form (docs/api.md, "Lean answers"): numbers
rounded to a few significant digits, or a byte per cell on the tensor's own range, in the
code of engine.unit_maps (byte k <= LEVELS is lo (1 - k/LEVELS) + hi k/LEVELS, byte
NON_FINITE a value that is not finite), so that a step change costs kilobytes, not
hundreds of them; "u8delta" sends each row of bytes as its difference from the row above,
which gzip packs into half the size for a smooth map (the decision boundary). Without a
form, tensors are sent in full precision, as CONTRACT §4 says.
"""

import base64
import math
from typing import Literal, NamedTuple

import numpy as np
import orjson
from fastapi.responses import JSONResponse

from engine.unit_maps import LEVELS, NON_FINITE, quantise

OPTIONS = orjson.OPT_SERIALIZE_NUMPY
MAX_DIGITS = 17  # a double's shortest round-trip form never needs more
EXACT_POWER = 22  # 10**p is exactly a double up to p = 22
# from this many digits on, x · 10**p is taken in long double where the platform has one
# (x86: 64 bits of mantissa): in doubles the product's own rounding leaves too many values
# undecided between two neighbours (a third of them at 15 digits), each formatted alone
WIDE_DIGITS = 13
# 10**p for p = 0 ... EXACT_POWER, exact in either type
_POWERS = {t: np.array([t(10) ** p for p in range(EXACT_POWER + 1)], dtype=t)
           for t in (np.float64, np.longdouble)}


class Form(NamedTuple):
    """How a tensor's numbers are sent. digits: significant digits of each JSON number
    (None: full precision); encoding "u8": a byte per cell instead of JSON numbers."""

    digits: int | None = None
    encoding: Literal["json", "u8", "u8delta"] = "json"


FULL = Form()


def cost_per_cell(form: Form) -> int:
    """About how many plain cells one cell of this form costs to build, rounded up: 13 to
    16 significant digits take long doubles, and some values Python's formatting (measured
    3 to 6 times as long as 12 digits or fewer, on 2**21 cells)."""
    return 8 if form.digits is not None and WIDE_DIGITS <= form.digits < MAX_DIGITS else 1


# a tensor's rows are a layer's units (or the pixels of an image): up to this many stay
# separate rows when the tensor is reduced, since rows that differ, or that a zero init
# keeps identical, are what a learner looks at; the widest valid layer (128) is halved
MAX_WHOLE_ROWS = 64


def block_factors(shape, max_cells):
    """(row, column) block sizes that bring shape (R, C) to at most max_cells cells.

    Rows stay whole up to MAX_WHOLE_ROWS of them (beyond, they are averaged down to that
    many), and the columns, a layer's examples, take the cells left: an (8, 800) Z is
    drawn as 8 units of 200 example means, not as 4 pairs of units. Rows are averaged
    further only when max_cells cannot hold a column of them.
    """
    R, C = shape
    if max_cells >= R * C:
        return 1, 1
    fr = max(-(-R // MAX_WHOLE_ROWS), -(-R // max_cells))
    columns = max_cells // -(-R // fr)  # cells left for each drawn row
    return fr, min(-(-C // columns), C)


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


def significant(X, digits: int):
    """X with every finite value rounded to `digits` significant digits; NaN and ±inf kept.

    Each result is the double nearest the rounded decimal, as float(f"{x:.{digits - 1}e}")
    gives it, so its shortest repr (what orjson writes) has at most those digits. The
    product x · 10**p is rounded once, and then k / 10**p and k * 10**p are correctly
    rounded while 10**p is exact (p <= EXACT_POWER) and k < 2**53: where that product may
    have crossed a tie (…5) in its rounding, floor(log10 |x|) is one off, or k is 2**53 or
    more (16 digits), the value is formatted by itself instead.
    """
    X = np.asarray(X, dtype=np.float64)
    if digits >= MAX_DIGITS:  # every double is the nearest to its own 17 digits
        return X.copy()
    wide = np.longdouble if digits >= WIDE_DIGITS else np.float64
    with np.errstate(all="ignore"):
        exponent = np.floor(np.log10(np.abs(X)))  # -inf for 0, NaN for NaN
        decimals = np.where(np.isfinite(exponent), digits - 1 - exponent, 0)
        powers = np.minimum(np.abs(decimals), EXACT_POWER).astype(np.intp)
        scale, wide_scale = _POWERS[np.float64][powers], _POWERS[wide][powers]
        X_wide = X.astype(wide, copy=False)
        scaled = np.where(decimals >= 0, X_wide * wide_scale, X_wide / wide_scale)
        whole = np.round(scaled)
        size = np.abs(scaled)
        # the product's rounding moved it by half an ulp at most: a tie within that is
        # unsure, and so is a product outside [10**(digits - 1), 10**digits) (log10 a decade
        # off, 999.9999999999999 read as 1e3) or an integer that a double cannot hold
        unsure = ((np.abs(np.abs(scaled - whole) - 0.5) <= 2 * np.finfo(wide).eps * size)
                  | (size < 10.0 ** (digits - 1)) | (size >= 10.0 ** digits)
                  | (np.abs(whole) >= 2.0**53) | (np.abs(decimals) > EXACT_POWER))
        whole = whole.astype(np.float64)  # exact where sure: an integer below 2**53
        rounded = np.where(decimals >= 0, whole / scale, whole * scale)
    unsure &= np.isfinite(X) & (X != 0)
    if unsure.any():
        rounded[unsure] = [float(f"{v:.{digits - 1}e}") for v in X[unsure].tolist()]
    # a value that would round past the largest double keeps its own digits
    return np.where(np.isfinite(rounded) | ~np.isfinite(X), rounded, X)


def row_deltas(codes):
    """codes (R, C) with each row after the first as its difference from the row above,
    modulo LEVELS + 1; NON_FINITE stays, and counts as code 0 for the row below it."""
    above = np.where(codes == NON_FINITE, 0, codes).astype(np.int16)
    deltas = codes.astype(np.int16)
    deltas[1:] = (deltas[1:] - above[:-1]) % (LEVELS + 1)
    return np.where(codes == NON_FINITE, NON_FINITE, deltas).astype(np.uint8)


def byte_cells(X, delta: bool = False) -> dict:
    """{"lo", "hi", "bytes"}: X (R, C) as R·C bytes, row after row, on its own finite
    range (engine.unit_maps.quantise); lo and hi are null when no value is finite. delta:
    rows as differences (row_deltas), marked "delta": true."""
    codes, lo, hi = quantise(X.reshape(1, -1))
    codes = row_deltas(codes.reshape(X.shape)) if delta else codes
    finite = math.isfinite(lo[0])
    return {"lo": float(lo[0]) if finite else None, "hi": float(hi[0]) if finite else None,
            "bytes": base64.b64encode(codes.tobytes()).decode("ascii"),
            **({"delta": True} if delta else {})}


def cells(X, form: Form) -> dict:
    """The numbers of a tensor in the requested form: {"data": rows} or the byte cells."""
    if form.encoding != "json":
        return byte_cells(X, delta=form.encoding == "u8delta")
    return {"data": X if form.digits is None else significant(X, form.digits)}


def tensor(X, max_cells=None, form: Form = FULL):
    """A tensor as docs/api.md gives it: {"shape", "data"} rows, block-averaged to at most
    max_cells cells; a lean form rounds its numbers or sends them as bytes."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        X = X.reshape(X.shape[0] if X.ndim else 1, -1)
    fr, fc = (1, 1) if max_cells is None else block_factors(X.shape, max_cells)
    if (fr, fc) == (1, 1):
        return {"shape": list(X.shape), **cells(np.ascontiguousarray(X), form)}
    with np.errstate(all="ignore"):  # a block holding inf and -inf averages to NaN: null
        small = block_mean(X, fr, fc)
    return {"shape": list(small.shape), **cells(small, form), "downsampled_from": list(X.shape)}


def with_tensors(obj, max_cells=None, whole=(), form: Form = FULL, _seen=None):
    """A copy of a record where every ndarray is a tensor dict (in `form`); the arrays under
    a key in `whole` (one example's columns) stay full size whatever max_cells says.

    A record shares arrays (A_prev of layer l is A of layer l-1; X is A_prev of layer 1
    in full batch), so each array is converted once and its tensor reused.
    """
    seen = {} if _seen is None else _seen
    if isinstance(obj, np.ndarray):
        if (id(obj), max_cells) not in seen:
            seen[id(obj), max_cells] = tensor(obj, max_cells, form)
        return seen[id(obj), max_cells]
    if isinstance(obj, dict):
        return {k: with_tensors(v, None if k in whole else max_cells, whole, form, seen)
                for k, v in obj.items()}
    if isinstance(obj, list | tuple) and obj and isinstance(obj[0], dict | list | np.ndarray):
        return [with_tensors(v, max_cells, whole, form, seen) for v in obj]
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
