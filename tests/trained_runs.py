"""Recorded runs that several test modules examine (test_run, test_step, test_records):
their configs, one training of each per test session with every step's record as training
computed it, and helpers that compare records.

A trained run is shared by the modules that ask for it: tests read it and never change it.
"""

import copy
from functools import cache

import numpy as np

from engine import records
from engine.config import normalize_config
from engine.run import Run
from engine.threads import single_blas_thread

BASE = {"dataset": "moons", "n_samples": 100, "hidden_layers": [5, 4], "steps": 20}
# 20 steps cross checkpoints every 2 steps, so replays start from each of them
CONFIGS = {
    "full_batch": BASE,
    # 80 training examples in batches of 30: 30, 30, then the remainder 20
    "minibatch_remainder": {**BASE, "batch_size": 30},
    "dropout": {**BASE, "keep_prob": 0.8, "batch_size": 16},
    "adam_l2": {**BASE, "optimizer": "adam", "l2": 0.7, "learning_rate": 0.01},
    "momentum_tanh": {**BASE, "optimizer": "momentum",
                      "activations": ["tanh", "tanh", "sigmoid"]},
    "rmsprop_softmax": {"dataset": "spiral", "n_samples": 90, "hidden_layers": [6],
                        "optimizer": "rmsprop", "learning_rate": 0.01, "steps": 20},
    "sine_leaky": {"dataset": "sine", "n_samples": 60, "hidden_layers": [6, 6],
                   "activations": ["leaky_relu", "sigmoid", "linear"], "steps": 12},
    # 66,561 parameters: norms taken step by step, dθ and θ in buffers shared by steps
    "wide_momentum": {**BASE, "hidden_layers": [128] * 5, "optimizer": "momentum",
                      "learning_rate": 0.05},
}
# edge cases: no hidden layer, one-example batches, no test set, softmax under mse,
# several sigmoid outputs under BCE, all-zero weights
EDGE_CONFIGS = {
    "logistic": {"dataset": "moons", "n_samples": 60, "hidden_layers": [], "steps": 12},
    "batch_of_one": {"dataset": "moons", "n_samples": 20, "hidden_layers": [3], "batch_size": 1,
                     "keep_prob": 0.5, "steps": 40},
    "no_test_set": {"dataset": "xor", "n_samples": 20, "test_fraction": 0.0,
                    "hidden_layers": [1, 1], "steps": 10},
    "softmax_mse": {"dataset": "digits", "hidden_layers": [16], "loss": "mse", "steps": 10,
                    "activations": ["leaky_relu", "softmax"], "batch_size": 100},
    "multi_sigmoid_bce": {"dataset": "iris", "hidden_layers": [4], "steps": 10,
                          "activations": ["tanh", "sigmoid"], "loss": "binary_cross_entropy"},
    "zeros_init": {"dataset": "circles", "n_samples": 40, "init": "zeros", "steps": 10,
                   "optimizer": "adam"},
}
ALL_CONFIGS = {**CONFIGS, **EDGE_CONFIGS}

# g(Z) and g'(Z) from their formulas, independently of engine.activations
ACTIVATIONS = {
    "relu": lambda Z: np.maximum(Z, 0.0),
    "leaky_relu": lambda Z: np.where(Z > 0, Z, 0.01 * Z),
    "tanh": np.tanh,
    "sigmoid": lambda Z: 1.0 / (1.0 + np.exp(-Z)),
    "linear": lambda Z: Z,
    "softmax": lambda Z: np.exp(Z - Z.max(0)) / np.exp(Z - Z.max(0)).sum(0),
}
DERIVATIVES = {
    "relu": lambda Z: (Z > 0) * 1.0,
    "leaky_relu": lambda Z: np.where(Z > 0, 1.0, 0.01),
    "tanh": lambda Z: 1.0 - np.tanh(Z) ** 2,
    "sigmoid": lambda Z: ACTIVATIONS["sigmoid"](Z) * (1.0 - ACTIVATIONS["sigmoid"](Z)),
    "linear": lambda Z: np.ones_like(Z),
}


def train_recording(raw, **kwargs):
    """(run, originals): a trained run, and per step t what training computed: its
    "record" (engine.records.step_record), "new_params" (θ_{t+1}) and "indices"."""
    single_blas_thread()  # results of a matmul may depend on the thread count
    run = Run(normalize_config(raw))
    originals = {}

    def collect(t, result):
        # deep copies: the originals must survive whatever the engine does with its buffers
        originals[t] = {
            "record": copy.deepcopy(records.step_record(result, run.config, t)),
            "new_params": {k: v.copy() for k, v in result.update.new_params.items()},
            "indices": None if result.forward.indices is None else
            np.array(result.forward.indices),
        }

    run.train(on_step=collect, **kwargs)
    return run, originals


@cache
def trained_run(name):
    """train_recording of ALL_CONFIGS[name], once per test session."""
    return train_recording(ALL_CONFIGS[name])


def record_tensors(record):
    """(path, array) of every tensor in a step record, in a fixed order."""
    out = [(("batch", k), v) for k, v in record.get("batch", {}).items() if k != "indices"]
    for layer in record["layers"]:
        for group in ("linear_cache", "activation_cache", "grads", "update"):
            out += [((layer["l"], group, k), v) for k, v in layer.get(group, {}).items()]
        out += [((layer["l"], k), layer[k]) for k in ("A", "D") if layer.get(k) is not None]
    return out


def assert_same_bytes(a, b, where):
    assert a.dtype == b.dtype == np.float64, where
    assert a.shape == b.shape, where
    assert np.array_equal(a, b, equal_nan=True), where
    assert a.tobytes() == b.tobytes(), where
