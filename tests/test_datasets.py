"""Tests for engine.datasets: shapes, scaling, labels, determinism and the catalogue."""

import hashlib
import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from sklearn import datasets as sk

from engine import datasets
from engine.config import CHOICES
from engine.datasets import (
    CATALOGUE,
    IMAGES,
    TASK_HEADS,
    DatasetInfo,
    dataset_size,
    example_image,
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
    # the course's arrays as they are: the fast path's [X; 1] is a run's (engine.run)
    assert [f.name for f in fields(ds)] == ["info", "X_train", "Y_train", "X_test", "Y_test",
                                            "mean", "std"]
    assert ds.X_train.base is None and ds.X_test.base is None


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


@pytest.mark.parametrize("name", REAL)
def test_real_data_is_read_once_and_shared_read_only(name):
    """A server builds a run per request: sklearn's file is parsed once per process (issue
    15, server overhead), and no run can change what the others read."""
    generate = datasets._lookup(name)[1]
    (X, y), (X_again, y_again) = generate(0, 0.0, None), generate(0, 0.0, None)
    assert X is X_again and y is y_again
    assert not X.flags.writeable and not y.flags.writeable
    assert load_dataset(name, 100, None, 0.2, seed=1).X_train.flags.writeable  # a copy


def generated(name, n_samples, seed):
    """X: (n_x, n) as load_dataset's generator made it, before the split and the scaling,
    from the seed's first stream, as load_dataset draws it."""
    data_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    generate = datasets._lookup(name)[1]
    return generate(dataset_size(name, n_samples), CATALOGUE[name].default_noise, data_rng)[0]


def split_order(seed, n_total):
    """The permutation load_dataset splits with (training examples first), from the seed's
    second stream."""
    split_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    return split_rng.permutation(n_total)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("seed", "n_samples", "test_fraction"), [(3, 80, 0.25), (9, 200, 0.0)])
def test_raw_features_are_the_examples_as_generated(name, seed, n_samples, test_fraction):
    """The kept train mean and std undo the standardizing, test examples included."""
    ds = load_dataset(name, n_samples, None, test_fraction, seed)
    X = generated(name, n_samples, seed)
    order, m = split_order(seed, X.shape[1]), ds.X_train.shape[1]
    scale = np.abs(X).max()
    for standardized, columns in ((ds.X_train, order[:m]), (ds.X_test, order[m:])):
        np.testing.assert_allclose(ds.raw_features(standardized), X[:, columns], rtol=1e-12,
                                   atol=1e-12 * scale)
    assert (ds.mean.shape, ds.std.shape) == ((ds.info.n_x, 1),) * 2


@pytest.mark.parametrize(("seed", "test_fraction"), [(1, 0.2), (7, 0.0), (2**32 - 1, 0.5)])
def test_a_digit_example_is_the_picture_sklearn_holds(seed, test_fraction):
    ds = load_dataset("digits", 0, None, test_fraction, seed)
    images, m = sk.load_digits().images, ds.X_train.shape[1]
    order = split_order(seed, len(images))
    for i in (0, 5, m // 2, m - 1):
        image = example_image(ds, i)
        assert image.dtype.kind == "i" and image.shape == (8, 8)
        np.testing.assert_array_equal(image, images[order[i]])  # every grey level exact


@pytest.mark.parametrize(("name", "i", "error", "message"), [
    ("moons", 0, ValueError, "dataset: the examples of 'moons' are not images"),
    ("iris", 0, ValueError, "dataset: the examples of 'iris'"),
    ("digits", -1, IndexError, "example: training example -1 is not one of 0 to 79"),
    ("digits", 80, IndexError, "example: training example 80 "),
])
def test_example_image_refuses_what_is_no_picture(name, i, error, message):
    ds = load_dataset(name, 100, None, 0.2, 1)
    if name == "digits":  # 80 training examples, so that the limits are short to write
        ds = datasets.Dataset(ds.info, ds.X_train[:, :80], ds.Y_train[:, :80], ds.X_test,
                              ds.Y_test, ds.mean, ds.std)
    with pytest.raises(error, match=message):
        example_image(ds, i)


@pytest.mark.parametrize(("name", "shape"), IMAGES.items())
def test_image_shapes_fit_their_datasets(name, shape):
    assert shape.rows * shape.cols == CATALOGUE[name].n_x
    X = generated(name, 0, 0)
    assert (X.min(), X.max()) == shape.levels and np.array_equal(X, np.rint(X))


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
