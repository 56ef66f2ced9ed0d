"""Datasets for the visualizer: toy 2-D sets, a 1-D regression and small real sets.

Examples are columns: X is (n_x, m), Y is (n_y, m). Every generator takes
`(n, noise, rng)` and returns `X: (n_x, n), y: (n,)` (class ids or targets);
`load_dataset` turns `y` into `Y`, splits with a seeded permutation and
standardizes the features with train statistics, which the Dataset keeps, so that an
example can be shown as the data had it (a digit as the picture it was written as).
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache, cached_property

import numpy as np
from sklearn import datasets as sk

from engine.losses import one_hot_labels

# task -> natural (output_activation, loss)
TASK_HEADS = {
    "binary": ("sigmoid", "binary_cross_entropy"),
    "multiclass": ("softmax", "categorical_cross_entropy"),
    "regression": ("linear", "mse"),
}
# real data ignores n_samples; sizes are sklearn's bundled files
REAL_SIZES = {"digits": 1797, "iris": 150, "breast_cancer": 569}


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    task: str
    n_x: int
    n_y: int
    classes: list[str]
    output_activation: str
    loss: str
    fixed_size: bool
    default_noise: float
    description: str

    def as_dict(self) -> dict:
        """JSON-friendly copy (classes is a fresh list)."""
        return asdict(self)


@dataclass(frozen=True)
class Dataset:
    info: DatasetInfo
    X_train: np.ndarray  # (n_x, m_train)
    Y_train: np.ndarray  # (n_y, m_train)
    X_test: np.ndarray  # (n_x, m_test)
    Y_test: np.ndarray  # (n_y, m_test)

    # the train statistics that standardized X, X = (X_raw - mean) / std: (n_x, 1) each;
    # None for data given as they are (the benchmarks' random arrays)
    mean: np.ndarray | None = field(default=None, repr=False, compare=False)
    std: np.ndarray | None = field(default=None, repr=False, compare=False)

    def raw_features(self, X):
        """X: (n_x, k) standardized columns -> (n_x, k) as the data had them, X * std + mean
        (equal to float rounding)."""
        if self.mean is None:
            return np.array(X, dtype=np.float64)
        return X * self.std + self.mean

    @cached_property
    def train_labels(self):
        """Each training example's class, or None when Y_train is not one-hot
        (binary and regression targets): see engine.losses.one_hot_labels."""
        return one_hot_labels(self.Y_train)


def _info(name, task, n_x, classes, default_noise, description):
    """Fill n_y, the natural head and fixed_size from the task and the name."""
    n_y = len(classes) if task == "multiclass" else 1
    activation, loss = TASK_HEADS[task]
    return DatasetInfo(name, task, n_x, n_y, list(classes), activation, loss,
                       name in REAL_SIZES, default_noise, description)


def _sklearn_seed(rng):
    """An int sklearn accepts as random_state (< 2**32), drawn from rng."""
    return int(rng.integers(2**32))


def _class_counts(n, k):
    """Split n examples into k near-equal class sizes, e.g. (10, 3) -> [4, 3, 3]."""
    return [n // k + (j < n % k) for j in range(k)]


def _moons(n, noise, rng):
    X, y = sk.make_moons(n_samples=n, noise=noise, random_state=_sklearn_seed(rng))
    return X.T, y


def _circles(n, noise, rng):
    X, y = sk.make_circles(n_samples=n, noise=noise, factor=0.5,
                           random_state=_sklearn_seed(rng))
    return X.T, y


def _xor(n, noise, rng):
    """Points cycle through the four quadrants; label 1 where x1*x2 > 0."""
    quadrant = np.arange(n) % 4
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])[quadrant]  # (n, 2)
    X = signs * rng.uniform(0.05, 1.0, size=(n, 2)) + noise * rng.standard_normal((n, 2))
    # labels come from the clean quadrant, so noise pushes points across the axes
    return X.T, (quadrant % 2 == 0).astype(int)


def _gaussian(n, noise, rng):
    """Two blobs at (-1, -1) and (1, 1); spread 0.2 + noise, so more noise = more overlap."""
    X, y = sk.make_blobs(n_samples=_class_counts(n, 2), centers=[[-1, -1], [1, 1]],
                         cluster_std=0.2 + noise, random_state=_sklearn_seed(rng))
    return X.T, y


def _polar(counts, arm):
    """Stack classes j whose points are (r sin t, r cos t) with (r, t) = arm(j, N)."""
    X, y = [], []
    for j, N in enumerate(counts):
        r, t = arm(j, N)
        X.append(np.stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(N, j))
    return np.concatenate(X, axis=1), np.concatenate(y)


def _spiral(n, noise, rng):
    """cs231n spiral: K = 3 arms, r in [0, 1], t = linspace(4j, 4(j+1)) + noise."""
    def arm(j, N):
        t = np.linspace(j * 4, (j + 1) * 4, N) + rng.standard_normal(N) * noise
        return np.linspace(0.0, 1.0, N), t
    return _polar(_class_counts(n, 3), arm)


def _flower(n, noise, rng):
    """Course load_planar_dataset: a = 4 petals, r = a sin(4t); noise replaces its 0.2."""
    def arm(j, N):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + rng.standard_normal(N) * noise
        return 4 * np.sin(4 * t) + rng.standard_normal(N) * noise, t
    return _polar(_class_counts(n, 2), arm)


def _sine(n, noise, rng):
    """y = sin(x) + noise * N(0, 1), x uniform in [-pi, pi]."""
    x = rng.uniform(-np.pi, np.pi, size=n)
    return x.reshape(1, n), np.sin(x) + noise * rng.standard_normal(n)


def _bundled(loader):
    """Generator for a sklearn bundled set: offline, ignores n, noise and rng. Read once per
    process (parsing digits' file costs ~25 ms, a few percent of a run that trains in a
    second), and read-only: every load_dataset copies what it takes."""
    @cache
    def arrays():
        X, y = loader(return_X_y=True)
        X, y = np.ascontiguousarray(X.T), np.asarray(y)
        X.flags.writeable = y.flags.writeable = False
        return X, y

    def generate(n, noise, rng):
        return arrays()
    return generate


_BINARY = ["0", "1"]
# name: (generator, task, n_x, classes, default_noise, description)
_ROWS = {
    "moons": (_moons, "binary", 2, _BINARY, 0.2,
              "Two interleaving half circles. A straight line cannot separate them."),
    "circles": (_circles, "binary", 2, _BINARY, 0.1,
                "A small circle inside a larger one. The boundary must close around it."),
    "xor": (_xor, "binary", 2, _BINARY, 0.1,
            "Four quadrants labelled by the sign of x1 * x2. No single line separates them."),
    "gaussian": (_gaussian, "binary", 2, _BINARY, 0.3,
                 "Two round clouds of points. More noise makes them overlap."),
    "spiral": (_spiral, "multiclass", 2, ["0", "1", "2"], 0.2,
               "Three spiral arms (cs231n). Softmax must carve out curved regions."),
    "flower": (_flower, "binary", 2, _BINARY, 0.2,
               "The course's planar flower: four petals, two colours. Logistic regression "
               "fails; a small hidden layer succeeds."),
    "sine": (_sine, "regression", 1, [], 0.1,
             "Regression: predict y = sin(x) plus noise from x in [-pi, pi]."),
    "digits": (_bundled(sk.load_digits), "multiclass", 64, [str(d) for d in range(10)], 0.0,
               "8x8 images of handwritten digits: 64 pixel features, ten classes."),
    "iris": (_bundled(sk.load_iris), "multiclass", 4, ["setosa", "versicolor", "virginica"],
             0.0, "Four flower measurements; tell three iris species apart."),
    "breast_cancer": (_bundled(sk.load_breast_cancer), "binary", 30, ["malignant", "benign"],
                      0.0, "30 measurements of cell nuclei; predict malignant (0) or benign (1)."),
}
_TABLE: dict[str, tuple[DatasetInfo, Callable]] = {
    name: (_info(name, *row[1:]), row[0]) for name, row in _ROWS.items()
}
CATALOGUE: dict[str, DatasetInfo] = {name: info for name, (info, _) in _TABLE.items()}


@dataclass(frozen=True)
class ImageShape:
    """How an image set's n_x = rows * cols features lie: feature k is the pixel at row
    k // cols, column k % cols, a whole grey level from levels[0] (no ink) to levels[1]."""

    rows: int
    cols: int
    levels: tuple[int, int]


# the datasets whose examples are pictures: sklearn's digits are 8 × 8 at 17 grey levels
IMAGES: dict[str, ImageShape] = {"digits": ImageShape(8, 8, (0, 16))}


def image_shape(name: str) -> ImageShape:
    """The picture shape of dataset name; a ValueError naming dataset for data that are not
    images."""
    if name not in IMAGES:
        raise ValueError(f"dataset: the examples of {name!r} are not images; only those of "
                         f"{', '.join(IMAGES)} are")
    return IMAGES[name]


def example_image(data: Dataset, i: int) -> np.ndarray:
    """Training example i (a column of X_train, 0 <= i < m_train) as the picture it was:
    (rows, cols) whole grey levels. ValueError naming dataset for data that are not images,
    IndexError for an i outside the training set."""
    shape = image_shape(data.info.name)
    m = data.X_train.shape[1]
    if not 0 <= i < m:
        raise IndexError(f"example: training example {i} is not one of 0 to {m - 1}")
    # back to whole levels: X * std + mean misses them by float rounding only
    raw = np.rint(data.raw_features(data.X_train[:, i:i + 1]))
    return np.clip(raw, *shape.levels).astype(np.int64).reshape(shape.rows, shape.cols)


def _lookup(name):
    """(info, generator) for name, or a ValueError that lists the choices."""
    if name not in _TABLE:
        raise ValueError(f"dataset: unknown name '{name}'; choose one of {', '.join(_TABLE)}")
    return _TABLE[name]


def dataset_size(name: str, n_samples: int) -> int:
    """Total examples load_dataset will produce: the fixed size for real data."""
    _lookup(name)
    return REAL_SIZES.get(name, n_samples)


def split_sizes(n_total: int, test_fraction: float) -> tuple[int, int]:
    """(m_train, m_test) with m_test = round(n_total * test_fraction)."""
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"dataset: test_fraction must be in [0, 1), got {test_fraction}")
    m_test = round(float(n_total * test_fraction))
    if n_total - m_test < 1:
        raise ValueError(f"dataset: {n_total} samples leave no training examples")
    return n_total - m_test, m_test


def _targets(info, y):
    """y: (m,) -> Y: (n_y, m); multiclass becomes one-hot columns."""
    if info.task == "multiclass":
        return np.eye(info.n_y)[y.astype(int)].T
    return y.reshape(1, -1)


def _train_statistics(X_train):
    """X_train: (n_x, m) -> (mean, std), (n_x, 1) each; std 1 for a constant feature."""
    mean = X_train.mean(axis=1, keepdims=True)
    std = X_train.std(axis=1, keepdims=True)
    std = np.where(std > 1e-12, std, 1.0)  # constant features (digits' border pixels)
    return mean, std


def _standardize(X, mean, std):
    """Scale features to mean 0, std 1 with the train statistics (no test leakage)."""
    return (X - mean) / std


def _as_f64(A):
    return np.ascontiguousarray(A, dtype=np.float64)


def load_dataset(name: str, n_samples: int, noise: float | None,
                 test_fraction: float, seed: int) -> Dataset:
    """Generate (or load) name, split it with a seeded permutation, standardize X.

    X_train: (n_x, m_train), Y_train: (n_y, m_train); test arrays are (., m_test); the
    train mean and std that standardized X: (n_x, 1) each.
    """
    info, generate = _lookup(name)
    noise = info.default_noise if noise is None else noise
    if noise < 0:
        raise ValueError(f"dataset: noise must be >= 0, got {noise}")
    # separate streams, so the split does not depend on how many draws generation made
    data_rng, split_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    X, y = generate(dataset_size(name, n_samples), noise, data_rng)
    m_train, _ = split_sizes(X.shape[1], test_fraction)
    order = split_rng.permutation(X.shape[1])
    train, test = order[:m_train], order[m_train:]
    mean, std = _train_statistics(X[:, train])
    X_train, X_test = _standardize(X[:, train], mean, std), _standardize(X[:, test], mean, std)
    Y = _targets(info, y)
    return Dataset(info, _as_f64(X_train), _as_f64(Y[:, train]), _as_f64(X_test),
                   _as_f64(Y[:, test]), _as_f64(mean), _as_f64(std))
