"""Tests for engine.datasets: shapes, scaling, labels, determinism and the catalogue."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn import datasets as sk

from engine.config import CHOICES
from engine.datasets import (
    CATALOGUE,
    TASK_HEADS,
    DatasetInfo,
    dataset_size,
    load_dataset,
    split_sizes,
)

NAMES = list(CATALOGUE)
REAL = {"digits": 1797, "iris": 150, "breast_cancer": 569}
SYNTHETIC = [name for name in NAMES if name not in REAL]
PLANAR = [name for name in SYNTHETIC if CATALOGUE[name].n_x == 2]
REPO = Path(__file__).resolve().parents[1]


def _digest(ds):
    """sha256 over the four arrays' bytes; the subprocess below repeats these lines."""
    h = hashlib.sha256()
    for A in (ds.X_train, ds.Y_train, ds.X_test, ds.Y_test):
        h.update(A.tobytes())
    return h.hexdigest()


def _class_ids(ds, Y):
    """Y: (n_y, m) -> (m,) class ids, for binary rows and one-hot columns alike."""
    return Y[0].astype(int) if ds.info.n_y == 1 else Y.argmax(axis=0)


def test_catalogue_order():
    assert NAMES == ["moons", "circles", "xor", "gaussian", "spiral", "flower", "sine",
                     "digits", "iris", "breast_cancer"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("n_samples", "test_fraction"),
                         [(20, 0.0), (20, 0.25), (200, 0.2), (2000, 0.0), (2000, 0.3)])
def test_shapes_dtype_and_layout(name, n_samples, test_fraction):
    ds = load_dataset(name, n_samples, None, test_fraction, seed=0)
    m_train, m_test = split_sizes(dataset_size(name, n_samples), test_fraction)
    n_x, n_y = ds.info.n_x, ds.info.n_y
    assert ds.X_train.shape == (n_x, m_train) and ds.Y_train.shape == (n_y, m_train)
    assert ds.X_test.shape == (n_x, m_test) and ds.Y_test.shape == (n_y, m_test)
    for A in (ds.X_train, ds.Y_train, ds.X_test, ds.Y_test):
        assert A.dtype == np.float64 and A.flags.c_contiguous
    # the forward's [X; 1], and X as a view of it: the examples are held once
    for X, X_ones in ((ds.X_train, ds.X_train_ones), (ds.X_test, ds.X_test_ones)):
        assert X.base is X_ones
        np.testing.assert_array_equal(X_ones[-1], 1.0)


@pytest.mark.parametrize(("n_total", "test_fraction", "expected"), [
    (20, 0.0, (20, 0)),
    (20, 0.25, (15, 5)),
    (200, 0.2, (160, 40)),
    (569, 0.2, (455, 114)),
    (1797, 0.3, (1258, 539)),
])
def test_split_sizes(n_total, test_fraction, expected):
    assert split_sizes(n_total, test_fraction) == expected


@pytest.mark.parametrize("name", NAMES)
def test_train_features_standardized(name):
    ds = load_dataset(name, 300, None, 0.2, seed=1)
    std = ds.X_train.std(axis=1)
    varying = std > 0  # digits has pixels that are always 0
    np.testing.assert_allclose(ds.X_train.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(std[varying], 1.0, rtol=1e-12)
    assert varying.sum() >= ds.info.n_x - 10


@pytest.mark.parametrize("name", [n for n in NAMES if CATALOGUE[n].task != "regression"])
@pytest.mark.parametrize("n_samples", [20, 300])
def test_labels(name, n_samples):
    ds = load_dataset(name, n_samples, None, 0.25, seed=2)
    for Y in (ds.Y_train, ds.Y_test):
        assert set(np.unique(Y)) <= {0.0, 1.0}
        if ds.info.task == "multiclass":
            np.testing.assert_array_equal(Y.sum(axis=0), 1.0)
    present = set(_class_ids(ds, ds.Y_train))
    assert present == set(range(len(ds.info.classes)))


def test_sine_targets_stay_in_natural_units():
    ds = load_dataset("sine", 500, 0.0, 0.0, seed=3)
    assert np.abs(ds.Y_train).max() <= 1.0 and np.abs(ds.Y_train).max() > 0.9


@pytest.mark.parametrize("name", NAMES)
def test_same_arguments_give_identical_bytes(name):
    first = load_dataset(name, 150, None, 0.2, seed=2**32 - 1)
    second = load_dataset(name, 150, None, 0.2, seed=2**32 - 1)
    assert _digest(first) == _digest(second)


@pytest.mark.parametrize("name", NAMES)
def test_different_seed_gives_different_data(name):
    a = load_dataset(name, 150, None, 0.2, seed=0)
    b = load_dataset(name, 150, None, 0.2, seed=1)
    assert a.X_train.tobytes() != b.X_train.tobytes()


@pytest.mark.parametrize("name", SYNTHETIC)
def test_noise_changes_synthetic_data(name):
    a = load_dataset(name, 150, 0.0, 0.2, seed=0)
    b = load_dataset(name, 150, 0.5, 0.2, seed=0)
    assert a.X_train.tobytes() != b.X_train.tobytes() or a.Y_train.tobytes() != b.Y_train.tobytes()


@pytest.mark.parametrize("name", ["moons", "spiral", "digits", "sine"])
def test_determinism_across_processes(name):
    code = (
        "import hashlib\n"
        "from engine.datasets import load_dataset\n"
        f"ds = load_dataset({name!r}, 250, None, 0.2, 12345)\n"
        "h = hashlib.sha256()\n"
        "for A in (ds.X_train, ds.Y_train, ds.X_test, ds.Y_test):\n"
        "    h.update(A.tobytes())\n"
        "print(h.hexdigest())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == _digest(load_dataset(name, 250, None, 0.2, 12345))


@pytest.mark.parametrize(("name", "size"), REAL.items())
@pytest.mark.parametrize("n_samples", [20, 5000])
def test_real_data_size_is_fixed_and_noise_ignored(name, size, n_samples):
    assert dataset_size(name, n_samples) == size
    ds = load_dataset(name, n_samples, 0.7, 0.0, seed=4)
    assert ds.X_train.shape[1] == size
    assert _digest(ds) == _digest(load_dataset(name, 100, None, 0.0, seed=4))


@pytest.mark.parametrize(("name", "loader"), [
    ("iris", sk.load_iris), ("breast_cancer", sk.load_breast_cancer),
])
def test_real_class_names_match_sklearn(name, loader):
    assert CATALOGUE[name].classes == list(loader().target_names)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: load_dataset("foo", 100, None, 0.2, 0), "dataset: unknown name 'foo'"),
    (lambda: dataset_size("foo", 100), "choose one of moons, circles"),
    (lambda: load_dataset("moons", 100, -0.1, 0.2, 0), "dataset: noise"),
    (lambda: load_dataset("moons", 100, None, 1.0, 0), "dataset: test_fraction"),
    (lambda: split_sizes(1, 0.6), "dataset: 1 samples"),
])
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("name", NAMES)
def test_catalogue_info_is_consistent(name):
    info = CATALOGUE[name]
    assert info.name == name
    assert (info.output_activation, info.loss) == TASK_HEADS[info.task]
    expected_n_y = len(info.classes) if info.task == "multiclass" else 1
    assert info.n_y == expected_n_y
    assert (info.classes == []) == (info.task == "regression")
    assert info.fixed_size == (name in REAL)
    assert info.default_noise == 0.0 or not info.fixed_size
    assert info.description


@pytest.mark.parametrize("name", NAMES)
def test_as_dict_round_trips_through_json(name):
    info = CATALOGUE[name]
    assert DatasetInfo(**json.loads(json.dumps(info.as_dict()))) == info


# -- the data a shared link relies on ---------------------------------------------------------
# A run id is its config, so a link gives the same numbers on any server only while the
# generators (NumPy's Generator, scikit-learn's make_* and bundled data) give the same data.
# These digests pin every dataset at a few (seed, n_samples, noise, test_fraction); an
# upgrade that changes the data fails here. Values are rounded to 12 significant digits of
# their array's largest magnitude first, so the last bits of a libm function do not matter.
# After a deliberate change, print the new digests with rounded_digest and review why.
DIGEST_CONFIGS = [(1, 400, None, 0.2), (7, 57, 0.35, 0.0), (2**32 - 1, 2000, 0.0, 0.5)]
DIGESTS = {
    "moons": ("7abcdd61099eb91b", "fb86e8eca242175e", "03dab62c765976ac"),
    "circles": ("4ddda395f9a808f4", "096ad61b342f8301", "9176ef3f02cf87e2"),
    "xor": ("2efd9b5d33d5c188", "bfeb45697b804394", "66493128a62877e8"),
    "gaussian": ("0f64d9c1f80defe5", "6a3942890733d42a", "c76c240668a1352b"),
    "spiral": ("19defa79e5051edb", "110e10ceeb1b3f5d", "d05c47ae2991610d"),
    "flower": ("0a579e92021d454d", "36b38348dc256678", "a9a915fd29b05d04"),
    "sine": ("dcc67786cad8e208", "60d68d7cb9433ec8", "8303a4d6f1f56ea4"),
    "digits": ("cf7d94564a24f61b", "3ed73c2cc6bffe7b", "d6acdd0b9fc551ac"),
    "iris": ("30aa0fdeddc47892", "d3343f528ea6db6c", "fdc7626e6d4b6d41"),
    "breast_cancer": ("b01c3e51ddbc94c9", "9bea5968aab286ab", "b6459c5e4db65136"),
}


def _rounded(A):
    """A's shape, its largest magnitude to 12 digits, and each value as an integer number
    of 1e-12 of that magnitude (+ 0 turns -0 into 0)."""
    scale = float(np.abs(A).max()) if A.size else 0.0
    steps = np.rint(A / scale * 1e12).astype("<i8") + 0 if scale else np.zeros(0, "<i8")
    return repr((A.shape, f"{scale:.11e}")).encode() + steps.tobytes()


def rounded_digest(ds) -> str:
    h = hashlib.sha256()
    for A in (ds.X_train, ds.Y_train, ds.X_test, ds.Y_test):
        h.update(_rounded(A))
    return h.hexdigest()[:16]


def test_every_dataset_has_pinned_digests():
    assert list(DIGESTS) == CHOICES["dataset"]


@pytest.mark.parametrize("name", CHOICES["dataset"])
@pytest.mark.parametrize("config", range(len(DIGEST_CONFIGS)))
def test_dataset_digest_is_pinned(name, config):
    seed, n_samples, noise, test_fraction = DIGEST_CONFIGS[config]
    ds = load_dataset(name, n_samples, noise, test_fraction, seed)
    assert rounded_digest(ds) == DIGESTS[name][config]


def test_rounded_digest_sees_a_change_in_the_tenth_digit():
    ds = load_dataset("moons", 57, 0.35, 0.0, 7)
    before = rounded_digest(ds)
    ds.X_train[1, 5] *= 1 + 1e-9
    assert rounded_digest(ds) != before
