"""app.serialize: tensors as JSON, block averaging, full precision, no NaN literals; and
the lean forms a client that only draws may ask for (significant digits, a byte a cell)."""

import base64
import gzip
import math
import subprocess
import sys

import numpy as np
import pytest

from app.serialize import (
    MAX_DIGITS,
    MAX_WHOLE_ROWS,
    Form,
    JSONBytes,
    block_factors,
    block_mean,
    dumps,
    significant,
    tensor,
    with_tensors,
)
from engine.unit_maps import LEVELS, NON_FINITE, dequantise
from tests.conftest import strict_json
from tests.server_processes import ROOT


def reference_block_mean(X, fr, fc):
    """Plain loops: the mean of every fr x fc block, edge blocks smaller."""
    R, C = X.shape
    out = np.empty((math.ceil(R / fr), math.ceil(C / fc)))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = X[i * fr:(i + 1) * fr, j * fc:(j + 1) * fc].mean()
    return out


@pytest.mark.parametrize(("shape", "max_cells"), [
    ((32, 1438), 16384), ((64, 1438), 16384), ((128, 2000), 16384), ((1, 2000), 100),
    ((2000, 1), 100), ((10, 10), 7), ((3, 3), 2), ((8, 2), 1), ((17, 23), 50), ((5, 5), 25),
])
def test_block_factors_fit_and_stay_within_the_shape(shape, max_cells):
    fr, fc = block_factors(shape, max_cells)
    R, C = shape
    assert 1 <= fr <= R and 1 <= fc <= C
    assert math.ceil(R / fr) * math.ceil(C / fc) <= max_cells


def test_block_factors_fit_every_shape_and_keep_units_whole_where_they_can():
    for R in [*range(1, 70), 127, 128, 129, 2000]:
        for C in (1, 2, 7, 64, 160, 799, 1438, 2000):
            for max_cells in (1, 2, 3, 8, 50, 64, 777, 1024, 2048, 16384):
                fr, fc = block_factors((R, C), max_cells)
                assert 1 <= fr <= R and 1 <= fc <= C
                assert math.ceil(R / fr) * math.ceil(C / fc) <= max_cells, (R, C, max_cells)
                if min(MAX_WHOLE_ROWS, max_cells) >= R:
                    assert fr == 1, (R, C, max_cells)  # a layer's units are never merged


@pytest.mark.parametrize(("shape", "max_cells", "factors"), [
    ((10, 10), 100, (1, 1)),       # fits: untouched
    ((8, 800), 2048, (1, 4)),      # 8 units stay 8 rows, of 200 example means
    ((32, 1438), 16384, (1, 3)),   # digits' hidden layer of 32
    ((64, 1438), 16384, (1, 6)),   # digits' X: a row per pixel
    ((128, 2000), 2048, (2, 63)),  # past MAX_WHOLE_ROWS, units in pairs
    ((100, 100), 2500, (2, 2)),
    ((1, 2000), 100, (1, 20)),     # a row vector shrinks along its only long axis
    ((10, 10), 7, (2, 10)),        # too few cells for a column of 10: rows give way
])
def test_block_factors_keep_a_layers_units_apart(shape, max_cells, factors):
    assert block_factors(shape, max_cells) == factors


@pytest.mark.parametrize(("shape", "fr", "fc"), [
    ((6, 8), 2, 2), ((7, 9), 2, 4), ((5, 13), 5, 3), ((1, 11), 1, 4), ((9, 1), 4, 1),
    ((64, 1438), 3, 2),
])
def test_block_mean_matches_loops(shape, fr, fc):
    X = np.random.default_rng(sum(shape)).standard_normal(shape)
    np.testing.assert_allclose(block_mean(X, fr, fc), reference_block_mean(X, fr, fc),
                               rtol=1e-12, atol=1e-15)


def test_tensor_at_full_size_is_exact_rows():
    X = np.random.default_rng(0).standard_normal((3, 5))
    out = strict_json(dumps(tensor(X)))
    assert out == {"shape": [3, 5], "data": X.tolist()}
    assert np.array_equal(np.array(out["data"]), X)  # full precision: bit-identical


def test_tensor_reduced_for_display_says_so():
    X = np.arange(200.0).reshape(10, 20)
    out = strict_json(dumps(tensor(X, max_cells=50)))
    assert out["downsampled_from"] == [10, 20]
    assert out["shape"][0] * out["shape"][1] <= 50
    fr, fc = block_factors((10, 20), 50)
    np.testing.assert_allclose(out["data"], reference_block_mean(X, fr, fc))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_null(value):
    X = np.array([[1.0, value], [0.5, 2.0]])
    text = dumps({"cost": float(value), "t": tensor(X), "small": tensor(X, max_cells=1)})
    assert b"NaN" not in text and b"Infinity" not in text
    out = strict_json(text)
    assert out["cost"] is None
    assert out["t"]["data"] == [[1.0, None], [0.5, 2.0]]
    assert out["small"]["data"] == [[None]]  # a block holding a non-finite value


@pytest.mark.parametrize("value", [0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -0.0, 1e-8])
def test_doubles_round_trip(value):
    assert strict_json(dumps(tensor(np.array([[value]]))))["data"][0][0] == value


# orjson 3.12 and 3.13 write past their buffer when an array's doubles take 24 characters
# each (-1.2688484457489112e+174, a diverging run's dA): glibc aborts the process, a whole
# server worker, on a step record that any visitor may ask for (pyproject.toml pins below
# 3.12). In a child process, so that an abort fails this test rather than the test run.
LONGEST_DOUBLES = """
import numpy as np
from app.serialize import dumps
longest = np.full((8, 320), -1.2688484457489112e174)
for n in range(1, 40):
    text = dumps({"indices": list(range(7 * n)), "dA": longest, "true_dA": longest})
print(text.count(b"-1.2688484457489112e"))
"""


def test_arrays_of_the_longest_doubles_serialize_without_corrupting_memory():
    child = subprocess.run([sys.executable, "-c", LONGEST_DOUBLES], capture_output=True,
                           text=True, timeout=120, cwd=ROOT)
    assert child.returncode == 0, child.stderr[-500:]
    assert child.stdout.split() == [str(2 * 8 * 320)]


def test_with_tensors_converts_nested_arrays_only():
    record = {"step": 3, "cost": np.float64(0.5), "batch": {"indices": [0, 2]},
              "layers": [{"W": np.ones((2, 2)), "D": None}]}
    out = strict_json(dumps(with_tensors(record)))
    assert out == {"step": 3, "cost": 0.5, "batch": {"indices": [0, 2]},
                   "layers": [{"W": {"shape": [2, 2], "data": [[1.0, 1.0], [1.0, 1.0]]},
                               "D": None}]}


def test_response_class_never_writes_nan():
    response = JSONBytes({"a": [float("nan"), float("inf")]})
    assert response.body == b'{"a":[null,null]}'
    assert response.media_type == "application/json"


def within_digits(shown, exact, digits):
    """shown is exact rounded to `digits` significant digits: half a unit of the last one."""
    shown, exact = np.asarray(shown, dtype=float), np.asarray(exact, dtype=float)
    with np.errstate(divide="ignore"):
        unit = 10.0 ** (np.floor(np.log10(np.abs(exact))) - digits + 1)
    return np.all(np.abs(shown - exact) <= np.where(exact == 0, 0, 0.5 * unit * (1 + 1e-9)))


@pytest.mark.parametrize("digits", range(1, MAX_DIGITS + 1))
def test_significant_is_the_correctly_rounded_decimal(digits):
    """Bit for bit what Python's correctly rounded formatting gives, over 20 decades and
    the cases a scaled product gets wrong: a tie (…5) crossed in the product's rounding,
    a power of ten that log10 puts one decade off, digits a double's product cannot hold.
    An audit found values 13.9 units of the 17th digit away, and 0.51 of the 14th."""
    rng = np.random.default_rng(digits)
    X = rng.standard_normal(20_000) * 10.0 ** rng.integers(-10, 10, 20_000)
    X = np.concatenate([X, [999.9999999999999, 1000.0, 0.001, 9.999999999999999e-5, 0.15,
                            0.25, 2.5, 1.0000000000000002, -0.08644778611119842,
                            0.12369697109046734, 0.015488358365920149, 5e-324, 1e308]])
    expected = np.array([float(f"{v:.{digits - 1}e}") for v in X.tolist()])
    expected = np.where(np.isfinite(expected), expected, X)  # past the largest double
    np.testing.assert_array_equal(significant(X, digits), expected)


@pytest.mark.parametrize(("value", "digits", "rounded"), [
    (0.123456789, 4, 0.1235), (-0.123456789, 3, -0.123), (123456.789, 2, 120000.0),
    (9.99951, 4, 10.0), (2.5e-300, 2, 2.5e-300), (0.0, 4, 0.0),
    (1.5e-7, 1, 1e-7),  # the double 1.5e-7 is 1.4999…e-7: under the tie
    (-0.0, 4, -0.0), (1.7976931348623157e308, 3, 1.7976931348623157e308), (7.0, MAX_DIGITS, 7.0),
])
def test_significant_rounds_to_the_digits_and_prints_them(value, digits, rounded):
    out = significant(np.array([[value]]), digits)[0, 0]
    assert out == rounded
    assert repr(float(out)) == repr(rounded)  # the shortest form: no 0.12350000000000001


def test_significant_keeps_the_digits_of_any_magnitude():
    X = np.random.default_rng(1).standard_normal((40, 60)) * 10.0 ** np.arange(-300, 300, 10)
    for digits in (1, 3, 4, 6, 10):
        rounded = significant(X, digits)
        assert within_digits(rounded, X, digits)
        # as JSON writes them: the shortest repr of each has at most `digits` digits
        mantissas = [repr(v).split("e")[0].replace("-", "").replace(".", "").strip("0")
                     for v in rounded.ravel().tolist()]
        assert max(len(m) for m in mantissas) <= digits


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_significant_keeps_non_finite_values_null(value):
    X = np.array([[1.23456, value]])
    out = strict_json(dumps(tensor(X, form=Form(digits=3))))
    assert out == {"shape": [1, 2], "data": [[1.23, None]]}


def byte_codes(out):
    """The bytes of a tensor sent as bytes, (rows, cols); with "delta", rows undone."""
    codes = np.frombuffer(base64.b64decode(out["bytes"]), dtype=np.uint8).reshape(out["shape"])
    if not out.get("delta"):
        return codes
    rows = [codes[0]]
    for row in codes[1:]:
        above = np.where(rows[-1] == NON_FINITE, 0, rows[-1]).astype(int)
        rows.append(np.where(row == NON_FINITE, NON_FINITE, (row + above) % (LEVELS + 1)))
    return np.array(rows, dtype=np.uint8)


def decoded(out):
    """The values of a tensor sent as bytes, NaN for byte 255: (rows, cols)."""
    codes = byte_codes(out)
    lo = np.nan if out["lo"] is None else out["lo"]
    hi = np.nan if out["hi"] is None else out["hi"]
    return dequantise(codes, np.full(len(codes), lo), np.full(len(codes), hi))


@pytest.mark.parametrize("encoding", ["u8", "u8delta"])
def test_bytes_come_back_within_half_a_step_of_the_range(encoding):
    X = np.random.default_rng(2).standard_normal((30, 70)) * 3 + 1
    out = strict_json(dumps(tensor(X, form=Form(encoding=encoding))))
    marked = {"delta"} if encoding == "u8delta" else set()
    assert set(out) == {"shape", "lo", "hi", "bytes"} | marked
    assert out["shape"] == [30, 70] and (out["lo"], out["hi"]) == (X.min(), X.max())
    assert np.max(np.abs(decoded(out) - X)) <= (X.max() - X.min()) / (2 * LEVELS) * (1 + 1e-12)


def test_bytes_of_a_block_averaged_tensor_are_its_block_means():
    X = np.random.default_rng(3).standard_normal((8, 320))
    out = strict_json(dumps(tensor(X, max_cells=2048, form=Form(encoding="u8"))))
    small = tensor(X, max_cells=2048)["data"]
    assert out["downsampled_from"] == [8, 320] and out["shape"] == list(small.shape)
    assert np.max(np.abs(decoded(out) - small)) <= (small.max() - small.min()) / 508 * (1 + 1e-12)


@pytest.mark.parametrize("encoding", ["u8", "u8delta"])
@pytest.mark.parametrize(("X", "lo", "hi"), [
    ([[1.0, np.nan], [-np.inf, 3.0], [2.0, 1.5]], 1.0, 3.0),
    ([[np.nan, np.inf]], None, None),
    ([[2.0, 2.0]], 2.0, 2.0),  # one value: every byte 0
])
def test_non_finite_cells_are_byte_255(X, lo, hi, encoding):
    X = np.array(X)
    out = strict_json(dumps(tensor(X, form=Form(encoding=encoding))))
    assert (out["lo"], out["hi"]) == (lo, hi)
    sent = np.frombuffer(base64.b64decode(out["bytes"]), dtype=np.uint8).reshape(X.shape)
    assert np.array_equal(sent == NON_FINITE, ~np.isfinite(X))
    assert np.array_equal(byte_codes(out) == NON_FINITE, ~np.isfinite(X))
    finite = np.isfinite(X)
    step = 0 if lo is None else (hi - lo) / LEVELS
    assert np.all(np.abs(decoded(out)[finite] - X[finite]) <= step / 2 * (1 + 1e-12))


def test_the_full_form_is_the_default():
    X = np.random.default_rng(4).standard_normal((3, 4))
    assert dumps(tensor(X, 5, Form())) == dumps(tensor(X, 5))
    assert list(strict_json(dumps(tensor(X, 5)))) == ["shape", "data", "downsampled_from"]
    assert strict_json(dumps(tensor(X)))["data"] == X.tolist()  # no digit lost


def test_with_tensors_sends_every_array_of_a_record_in_the_form():
    record = {"step": 3, "cost": 0.123456789, "layers": [{"W": np.full((2, 2), 0.123456789)}]}
    out = strict_json(dumps(with_tensors(record, form=Form(digits=2))))
    assert out["cost"] == 0.123456789  # a scalar is no tensor: it keeps its digits
    assert out["layers"][0]["W"]["data"] == [[0.12, 0.12], [0.12, 0.12]]


def test_row_deltas_pack_a_smooth_map():
    """A smooth map (a decision boundary) sent as row differences: mostly a few small
    bytes, which gzip packs into far less than the bytes themselves."""
    x = np.linspace(-3, 3, 60)
    P = 1 / (1 + np.exp(-(x[None, :] ** 2 / 2 - x[:, None] + np.sin(np.outer(x, x) / 2))))
    plain, delta = (strict_json(dumps(tensor(P, form=Form(encoding=e)))) for e in ("u8", "u8delta"))
    np.testing.assert_array_equal(decoded(delta), decoded(plain))
    assert len(gzip.compress(dumps(delta))) < 0.7 * len(gzip.compress(dumps(plain)))
