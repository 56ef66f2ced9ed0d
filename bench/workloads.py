"""The benchmark workloads of the engine issues, as engine configs plus data: W1–W5 train on
the whole training set, W6–W8 in mini-batches (issue 16)."""

import numpy as np

from engine.config import normalize_config
from engine.datasets import Dataset, DatasetInfo, load_dataset


def random_dataset(n_x, n_y, m, seed=0):
    """m random examples with n_x features: binary labels (n_y = 1) or one-hot classes."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    if n_y == 1:
        Y = (rng.random((1, m)) < 0.5).astype(float)
        task, head = "binary", ("sigmoid", "binary_cross_entropy")
    else:
        Y = np.eye(n_y)[:, rng.integers(0, n_y, m)]
        task, head = "multiclass", ("softmax", "categorical_cross_entropy")
    info = DatasetInfo(f"random{n_x}", task, n_x, n_y, [str(k) for k in range(max(n_y, 2))],
                       *head, True, 0.0, "random benchmark data")
    return Dataset(info, X, Y, np.empty((n_x, 0)), np.empty((n_y, 0)))


def _config(steps, **fields):
    return normalize_config({"steps": steps, "init": "he", "learning_rate": 0.05, **fields})


def workloads(steps):
    """name -> (description, config, dataset)."""
    w1 = _config(steps, dataset="moons", n_samples=625, test_fraction=0.2, hidden_layers=[8, 8])
    w2 = _config(steps, dataset="flower", n_samples=400, test_fraction=0.0, hidden_layers=[4],
                 activations=["tanh", "sigmoid"], init="xavier")
    w3 = _config(steps, dataset="breast_cancer", hidden_layers=[20, 7, 5], init="course",
                 learning_rate=0.0075)
    w4 = _config(steps, dataset="digits", test_fraction=0.0, hidden_layers=[32, 16])
    w5 = _config(steps, dataset="digits", hidden_layers=[128, 64])
    # issue 16's mini-batch runs: [64, 32, 16, 10] on digits with its test set (1,438
    # train + 359 test), in batches of 256, 64 and 16
    w6, w7, w8 = (_config(steps, dataset="digits", hidden_layers=[32, 16], batch_size=size)
                  for size in (256, 64, 16))

    def data(cfg):
        return load_dataset(cfg["dataset"], cfg["n_samples"], cfg["noise"],
                            cfg["test_fraction"], cfg["seed"])

    return {
        "W1": ("[2,8,8,1] moons, 500 train + 125 test", w1, data(w1)),
        "W2": ("[2,4,1] tanh, flower, 400", w2, data(w2)),
        "W3": ("[12288,20,7,5,1] on 209 random", w3, random_dataset(12288, 1, 209)),
        "W4": ("[64,32,16,10] digits, 1797, softmax", w4, data(w4)),
        "W5": ("[784,128,64,10] on 256 random", w5, random_dataset(784, 10, 256)),
        "W6": ("[64,32,16,10] digits, batches of 256", w6, data(w6)),
        "W7": ("[64,32,16,10] digits, batches of 64", w7, data(w7)),
        "W8": ("[64,32,16,10] digits, batches of 16", w8, data(w8)),
    }
