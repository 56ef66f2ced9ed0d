"""Compare what a learner's function gave with what the reference gave: the first place
they differ, in structure (tuple nesting, dict keys), shape or value.

Shapes must be equal: a db of shape (n,) where (n, 1) is expected differs even though
broadcasting would hide it for a while. Values agree within a relative difference of
1e-7 or an absolute one of 1e-12 (CONTRACT §8).
"""

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

RTOL = 1e-7
ATOL = 1e-12


class Difference(NamedTuple):
    path: tuple  # where, from the top: ("return", 1, 0), ("return", "dW2")
    kind: str  # "type", "length", "keys", "shape" or "values"
    expected: str  # described for a person, with shape and a few values
    got: str
    summary: str  # one line: "shape (3,) instead of (3, 1)"
    missing: tuple = ()  # kind "keys": the keys that got lacks
    extra: tuple = ()  # kind "keys": the keys that expected lacks
    matrix: bool = False  # kind "type": got is an np.matrix


def first_difference(expected, got, path=()) -> Difference | None:
    """The first place where got differs from expected, depth first, or None."""
    if isinstance(expected, Mapping):
        return _mappings(expected, got, path)
    if isinstance(expected, tuple | list):
        return _sequences(expected, got, path)
    if isinstance(expected, str) or expected is None:
        if got == expected and type(got) is type(expected):
            return None
        return Difference(path, "values", describe(expected), describe(got),
                          f"{describe(got)} instead of {describe(expected)}")
    return _arrays(expected, got, path)


def _mappings(expected, got, path):
    if not isinstance(got, Mapping):
        return _type(expected, got, path)
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    if missing or extra:
        parts = [f"{', '.join(map(str, missing))} missing" if missing else "",
                 f"{', '.join(map(str, extra))} not expected" if extra else ""]
        return Difference(path, "keys", describe(expected), describe(got),
                          "; ".join(p for p in parts if p), tuple(missing), tuple(extra))
    for key in expected:
        found = first_difference(expected[key], got[key], (*path, key))
        if found:
            return found
    return None


def _sequences(expected, got, path):
    # a list where the course builds a tuple (or the other way) holds the same things
    if not isinstance(got, tuple | list):
        return _type(expected, got, path)
    if len(got) != len(expected):
        return Difference(path, "length", describe(expected), describe(got),
                          f"{len(got)} values instead of {len(expected)}")
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        found = first_difference(e, g, (*path, i))
        if found:
            return found
    return None


def _is_numeric(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, np.ndarray | np.generic):
        return value.dtype.kind in "iuf"
    return isinstance(value, int | float)


def _arrays(expected, got, path):
    """Arrays and numbers: the same shape, then the same values within tolerance."""
    if not _is_numeric(got):
        return _type(expected, got, path)
    if isinstance(got, np.matrix):  # * multiplies matrices there: the next function breaks
        return Difference(path, "type", describe(expected), f"an np.matrix {np.shape(got)}",
                          "an np.matrix instead of an array", matrix=True)
    if np.shape(got) != np.shape(expected):
        return Difference(path, "shape", describe(expected), describe(got),
                          f"shape {np.shape(got)} instead of {np.shape(expected)}")
    e, g = np.asarray(expected, dtype=float), np.asarray(got, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(g - e)
        ok = (gap <= ATOL) | (gap <= RTOL * np.abs(e)) | (g == e) | (np.isnan(g) & np.isnan(e))
    if ok.all():
        return None
    return Difference(path, "values", describe(expected), describe(got), _worst(e, g, ok))


def _worst(e, g, ok):
    """Where the values differ most, relative to the expected value."""
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(ok, 0.0, np.abs(g - e) / np.maximum(np.abs(e), ATOL))
    relative = np.where(np.isnan(relative), np.inf, relative)
    at = np.unravel_index(int(np.argmax(relative)), e.shape)
    where = f" at [{', '.join(map(str, at))}]" if e.ndim else ""
    # + 0.0 turns -0.0 into 0.0: a sign of zero means nothing to a learner
    return f"different values: {g[at] + 0.0:.8g} instead of {e[at] + 0.0:.8g}{where}"


def _type(expected, got, path):
    return Difference(path, "type", describe(expected), describe(got),
                      f"{_kind(got)} instead of {_kind(expected)}")


def _kind(value) -> str:
    """A few words for what a value is: "an array (3, 1)", "a tuple of 3", "None"."""
    if isinstance(value, np.ndarray) and value.ndim:
        numeric = value.dtype.kind in "iuf"
        return f"an array {value.shape}" + ("" if numeric else f" of {value.dtype}")
    if _is_numeric(value):
        return "a number"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, Mapping):
        return "a dict"
    if value is None:
        return "None"
    if isinstance(value, str):
        return repr(value)
    return f"a {type(value).__name__}"


def describe(value) -> str:
    """A value for a person: its kind and shape, and a few of its numbers."""
    if isinstance(value, np.ndarray) and value.ndim:
        if value.dtype.kind not in "biuf":
            return _kind(value)
        text = np.array2string(value, threshold=6, edgeitems=2, separator=", ",
                               max_line_width=10**6,
                               formatter={"float_kind": lambda x: f"{x + 0.0:.8g}"})
        return f"{_kind(value)}: {' '.join(text.split())}"
    if _is_numeric(value):
        shape = " (a 0-d array)" if isinstance(value, np.ndarray) else ""
        return f"{float(value):.10g}{shape}"
    if isinstance(value, tuple | list):
        parts = ", ".join(_kind(v) for v in value[:6]) + (", ..." if len(value) > 6 else "")
        return f"{_kind(value)}: ({parts})"
    if isinstance(value, Mapping):
        keys = ", ".join(str(k) for k in list(value)[:12])
        return f"a dict with keys {keys}{', ...' if len(value) > 12 else ''}"
    return _kind(value)
