"""Tests for engine.run: replay exactness, determinism, the step record, summaries,
divergence, histograms and the gradient check of a recorded run."""

import collections
import copy
import json
import math
import subprocess
import sys
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

from engine import evaluation, gradcheck, records, stats
from engine import run as run_module
from engine.config import normalize_config
from engine.datasets import load_dataset
from engine.gradcheck import THRESHOLD
from engine.optimizers import MOMENTS
from engine.options import options
from engine.run import Run
from engine.threads import single_blas_thread

REPO = Path(__file__).resolve().parents[1]
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
# sine through three wide uniform layers at lr 10: the mse cost overflows at step 4
DIVERGES_AT_COST = {"dataset": "sine", "learning_rate": 10, "steps": 50,
                    "hidden_layers": [32, 32, 32], "init": "uniform"}
# moons at lr 10 through wide relu layers: Z[2] overflows while the logit cost stays finite
DIVERGES_IN_Z = {"dataset": "moons", "learning_rate": 10, "steps": 50,
                 "hidden_layers": [64, 64, 64, 64], "init": "uniform"}


@pytest.fixture(scope="module", autouse=True)
def _pinned_blas():
    # results of a matmul may depend on the thread count; the server pins it the same way
    single_blas_thread()


def _train(raw, **kwargs):
    run = Run(normalize_config(raw))
    originals = {}

    def collect(t, result):
        # deep copies: the originals must survive whatever the engine does with its buffers
        originals[t] = {
            "record": copy.deepcopy(records.step_record(result, run.config, t)),
            "new_params": {k: v.copy() for k, v in result.new_params.items()},
            "indices": None if result.indices is None else np.array(result.indices),
        }

    run.train(on_step=collect, **kwargs)
    return run, originals


@pytest.fixture(scope="module", params=[*CONFIGS, *EDGE_CONFIGS])
def trained(request):
    return request.param, *_train({**CONFIGS, **EDGE_CONFIGS}[request.param])


def _tensors(record):
    """(path, array) of every tensor in a step record, in a fixed order."""
    out = [(("batch", k), v) for k, v in record.get("batch", {}).items() if k != "indices"]
    for layer in record["layers"]:
        for group in ("linear_cache", "activation_cache", "grads", "update"):
            out += [((layer["l"], group, k), v) for k, v in layer.get(group, {}).items()]
        out += [((layer["l"], k), layer[k]) for k in ("A", "D") if layer.get(k) is not None]
    return out


def _assert_same_bytes(a, b, where):
    assert a.dtype == b.dtype == np.float64, where
    assert a.shape == b.shape, where
    assert np.array_equal(a, b, equal_nan=True), where
    assert a.tobytes() == b.tobytes(), where


# ---------------------------------------------------------------- replay exactness


def test_replay_is_byte_identical_to_training(trained):
    name, run, originals = trained
    assert run.status == "done" and run.num_steps == {**CONFIGS, **EDGE_CONFIGS}[name]["steps"]
    assert sorted(originals) == list(range(run.num_steps))
    # a scrambled order: no step may depend on which replay ran before it
    order = np.random.default_rng(0).permutation(run.num_steps).tolist()
    for t in order:
        replayed, original = run.step_record(t), originals[t]["record"]
        assert replayed["cost"] == original["cost"] and replayed["epoch"] == original["epoch"]
        assert replayed["batch"]["indices"] == original["batch"]["indices"]
        got, want = _tensors(replayed), _tensors(original)
        assert [p for p, _ in got] == [p for p, _ in want]
        for (path, a), (_, b) in zip(got, want, strict=True):
            _assert_same_bytes(a, b, (t, *path))


def test_update_links_consecutive_steps(trained):
    _, run, originals = trained
    for t in range(run.num_steps - 1):
        now, nxt = run.step_record(t), run.step_record(t + 1)
        for layer, layer_next in zip(now["layers"], nxt["layers"], strict=True):
            l = layer["l"]
            for p in ("W", "b"):
                theta, theta_next = layer["linear_cache"][p], layer_next["linear_cache"][p]
                # θ_{t+1} is exactly what the optimizer produced at step t ...
                _assert_same_bytes(theta_next, originals[t]["new_params"][f"{p}{l}"], (t, l, p))
                # ... the update is exactly θ_{t+1} − θ_t, and adding it back is within
                # one rounding of θ_{t+1} (W + (W' − W) need not be W' bit for bit)
                _assert_same_bytes(layer["update"][p], theta_next - theta, (t, l, p))
                np.testing.assert_allclose(theta + layer["update"][p], theta_next, rtol=0,
                                           atol=4.5e-16 * max(np.abs(theta).max(),
                                                              np.abs(theta_next).max()))


def test_batches_follow_the_configured_size(trained):
    _, run, originals = trained
    cfg = run.config
    m_train = run.data.X_train.shape[1]
    for t in range(run.num_steps):
        indices = originals[t]["record"]["batch"]["indices"]
        if cfg["batch_size"] is None:
            assert indices == list(range(m_train)) and originals[t]["indices"] is None
        else:
            per_epoch = math.ceil(m_train / cfg["batch_size"])
            k = t % per_epoch
            size = min(cfg["batch_size"], m_train - k * cfg["batch_size"])
            assert len(indices) == size
            assert originals[t]["record"]["epoch"] == t // per_epoch
            if k == per_epoch - 1:
                # one epoch's batches partition the training set
                epoch = [i for s in range(t - k, t + 1)
                         for i in originals[s]["record"]["batch"]["indices"]]
                assert sorted(epoch) == list(range(m_train))
        record = originals[t]["record"]
        np.testing.assert_array_equal(record["batch"]["X"], run.data.X_train[:, indices])
        np.testing.assert_array_equal(record["batch"]["Y"], run.data.Y_train[:, indices])


def test_unrecorded_steps_raise_index_error():
    run = Run(normalize_config({**BASE, "steps": 3}))
    with pytest.raises(IndexError):
        run.step_record(0)
    run.train()
    for t in (-1, 3, 100):
        with pytest.raises(IndexError):
            run.step_record(t)


def test_editing_a_record_cannot_corrupt_the_run():
    run = Run(normalize_config({**BASE, "steps": 12})).train()
    before = run.step_record(9)
    record = run.step_record(8)  # step 8 starts at a checkpoint: its θ is the checkpoint
    try:
        record["layers"][0]["linear_cache"]["W"] += 1.0
        record["batch"]["X"] *= 2.0
    except ValueError:
        pass  # read-only arrays are a fine answer
    after = run.step_record(9)
    for (path, a), (_, b) in zip(_tensors(after), _tensors(before), strict=True):
        _assert_same_bytes(a, b, path)


# ---------------------------------------------------------------- determinism across processes

DIGEST_SOURCE = '''
import hashlib, json
import numpy as np

def digest(obj):
    """sha256 over a record or summary: keys sorted, arrays by dtype, shape and bytes."""
    h = hashlib.sha256()

    def walk(x):
        if isinstance(x, dict):
            for k in sorted(x):
                h.update(repr(k).encode())
                walk(x[k])
        elif isinstance(x, (list, tuple)):
            h.update(b"[")
            for v in x:
                walk(v)
            h.update(b"]")
        elif isinstance(x, np.ndarray):
            h.update(str((x.dtype.str, x.shape)).encode())
            h.update(np.ascontiguousarray(x).tobytes())
        else:
            h.update(repr(x).encode())

    walk(obj)
    return h.hexdigest()
'''
SUBPROCESS = DIGEST_SOURCE + '''
import sys
from engine.threads import single_blas_thread
single_blas_thread()
from engine.config import normalize_config
from engine.run import Run
run = Run(normalize_config(json.loads(sys.argv[1]))).train()
print(json.dumps({"summary": digest(json.dumps(run.summary(), sort_keys=True)),
                  "record": digest(run.step_record(int(sys.argv[2])))}))
'''


@pytest.mark.parametrize("name", ["dropout", "adam_l2"])
def test_hashes_match_a_fresh_process(name):
    namespace = {}
    exec(DIGEST_SOURCE, namespace)
    digest = namespace["digest"]
    raw, t = CONFIGS[name], 13
    run = Run(normalize_config(raw)).train()
    here = {"summary": digest(json.dumps(run.summary(), sort_keys=True)),
            "record": digest(run.step_record(t))}
    out = subprocess.run([sys.executable, "-c", SUBPROCESS, json.dumps(raw), str(t)],
                         cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout) == here


# ---------------------------------------------------------------- record layout


def test_record_layout_matches_the_contract(trained):
    _, run, _ = trained
    cfg, dims = run.config, run.dims
    t = run.num_steps - 1
    record = run.step_record(t)
    assert set(record) == {"step", "epoch", "cost", "batch", "layers"}
    assert record["step"] == t and isinstance(record["cost"], float)
    m = len(record["batch"]["indices"])
    assert set(record["batch"]) == {"X", "Y", "indices"}
    assert record["batch"]["X"].shape == (dims[0], m)
    assert record["batch"]["Y"].shape == (dims[-1], m)
    assert [layer["l"] for layer in record["layers"]] == list(range(1, run.L + 1))
    for layer in record["layers"]:
        l, n, n_prev = layer["l"], dims[layer["l"]], dims[layer["l"] - 1]
        assert set(layer) == {"l", "activation", "linear_cache", "activation_cache", "A", "D",
                              "grads", "update"}
        assert layer["activation"] == cfg["activations"][l - 1]
        shapes = {
            ("linear_cache", "A_prev"): (n_prev, m), ("linear_cache", "W"): (n, n_prev),
            ("linear_cache", "b"): (n, 1), ("activation_cache", "Z"): (n, m),
            ("grads", "dA"): (n, m), ("grads", "dZ"): (n, m), ("grads", "dW"): (n, n_prev),
            ("grads", "db"): (n, 1), ("update", "W"): (n, n_prev), ("update", "b"): (n, 1),
        }
        for group in ("linear_cache", "activation_cache", "grads", "update"):
            assert set(layer[group]) == {k for g, k in shapes if g == group}
        for (group, key), shape in shapes.items():
            tensor = layer[group][key]
            assert isinstance(tensor, np.ndarray) and tensor.dtype == np.float64
            assert tensor.shape == shape, (l, group, key)
        assert layer["A"].shape == (n, m)
        if cfg["keep_prob"] < 1 and l < run.L:
            assert layer["D"].shape == (n, m)
            assert set(np.unique(layer["D"])) <= {0.0, 1.0}
            # A is recorded after the mask and the 1/keep_prob scaling
            g = _ACTIVATIONS[layer["activation"]](layer["activation_cache"]["Z"])
            np.testing.assert_allclose(layer["A"], g * layer["D"] / cfg["keep_prob"],
                                       rtol=1e-15)
        else:
            assert layer["D"] is None
    # the next layer's A_prev is this layer's A; the first layer's is the batch
    np.testing.assert_array_equal(record["layers"][0]["linear_cache"]["A_prev"],
                                  record["batch"]["X"])
    for below, above in zip(record["layers"], record["layers"][1:], strict=False):
        np.testing.assert_array_equal(above["linear_cache"]["A_prev"], below["A"])


@pytest.mark.parametrize(("layers", "fields", "batch_keys"), [
    ([2], {"Z", "dW"}, None),
    (None, {"X"}, {"X", "indices"}),
    ([1, 3], {"Y", "update"}, {"Y", "indices"}),
    ([3], {"A_prev", "W", "b", "Z", "A", "D", "dA", "dZ", "dW", "db"}, None),
    ([1], set(), None),
    (None, None, {"X", "Y", "indices"}),
])
def test_layers_and_fields_narrow_the_record(layers, fields, batch_keys):
    run = Run(normalize_config({**BASE, "steps": 3, "keep_prob": 0.9})).train()
    full = run.step_record(2)
    record = run.step_record(2, layers=layers, fields=fields)
    if batch_keys is None:
        assert "batch" not in record
    else:
        assert set(record["batch"]) == batch_keys
    assert [e["l"] for e in record["layers"]] == (layers or [1, 2, 3])
    wanted = set(records.LAYER_FIELDS if fields is None else fields)
    for entry in record["layers"]:
        got, reference = _by_field(entry), _by_field(full["layers"][entry["l"] - 1])
        assert {k.split(".")[0] for k in got} == wanted & {k.split(".")[0] for k in reference}
        for key, tensor in got.items():
            if tensor is None:
                assert reference[key] is None
            else:
                _assert_same_bytes(tensor, reference[key], key)


def _by_field(entry):
    """A layer entry's tensors by API field name ("update.W", "update.b" for update)."""
    out = {k: v for group in ("linear_cache", "activation_cache", "grads")
           for k, v in entry.get(group, {}).items()}
    out.update({k: entry[k] for k in ("A", "D") if k in entry})
    out.update({f"update.{k}": v for k, v in entry.get("update", {}).items()})
    return out


# ---------------------------------------------------------------- numbers recomputed here

_ACTIVATIONS = {
    "relu": lambda Z: np.maximum(Z, 0.0),
    "leaky_relu": lambda Z: np.where(Z > 0, Z, 0.01 * Z),
    "tanh": np.tanh,
    "sigmoid": lambda Z: 1.0 / (1.0 + np.exp(-Z)),
    "linear": lambda Z: Z,
    "softmax": lambda Z: np.exp(Z - Z.max(0)) / np.exp(Z - Z.max(0)).sum(0),
}
_DERIVATIVES = {
    "relu": lambda Z: (Z > 0) * 1.0,
    "leaky_relu": lambda Z: np.where(Z > 0, 1.0, 0.01),
    "tanh": lambda Z: 1.0 - np.tanh(Z) ** 2,
    "sigmoid": lambda Z: _ACTIVATIONS["sigmoid"](Z) * (1.0 - _ACTIVATIONS["sigmoid"](Z)),
    "linear": lambda Z: np.ones_like(Z),
}


def _close(got, want, where):
    # the same formulas evaluated by other code: agree to ~1e-15; entries much smaller
    # than the tensor's largest come out of cancelling sums, hence atol relative to it
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale, err_msg=str(where))


def _recompute(record, cfg):
    """Forward, cost and backward of a record from its own A_prev, W, b, D and Y."""
    layers, Y, kp = record["layers"], record["batch"]["Y"], cfg["keep_prob"]
    m, L = Y.shape[1], len(layers)
    A = record["batch"]["X"]
    for layer in layers:
        lc = layer["linear_cache"]
        _close(lc["A_prev"], A, (layer["l"], "A_prev"))
        Z = lc["W"] @ A + lc["b"]
        _close(layer["activation_cache"]["Z"], Z, (layer["l"], "Z"))
        A = _ACTIVATIONS[layer["activation"]](Z)
        if layer["D"] is not None:
            A = A * layer["D"] / kp
        _close(layer["A"], A, (layer["l"], "A"))
    Z, out = layers[-1]["activation_cache"]["Z"], layers[-1]["activation"]
    if cfg["loss"] == "binary_cross_entropy":
        # the logit form of -[y log σ(z) + (1-y) log(1-σ(z))]
        cost = np.sum(np.logaddexp(0.0, Z) - Y * Z) / m
        dA = -Y / A + (1 - Y) / (1 - A)
        dZ = A - Y
    elif cfg["loss"] == "categorical_cross_entropy":
        cost = -np.sum(Y * (Z - Z.max(0) - np.log(np.exp(Z - Z.max(0)).sum(0)))) / m
        dA = -Y / A
        dZ = A - Y
    else:
        cost = np.sum((A - Y) ** 2) / (2 * m)
        dA = A - Y
        # softmax mixes a column's units: dZ = A ⊙ (dA − Σₖ dAₖ Aₖ)
        dZ = A * (dA - (dA * A).sum(0)) if out == "softmax" else dA * _DERIVATIVES[out](Z)
    cost += cfg["l2"] / (2 * m) * sum(np.sum(e["linear_cache"]["W"] ** 2) for e in layers)
    assert record["cost"] == pytest.approx(cost, rel=1e-12)
    for layer in reversed(layers):
        l, lc, g = layer["l"], layer["linear_cache"], layer["grads"]
        if l < L:
            dA_kept = dA if layer["D"] is None else dA * layer["D"] / kp
            dZ = dA_kept * _DERIVATIVES[layer["activation"]](layer["activation_cache"]["Z"])
        _close(g["dA"], dA, (l, "dA"))
        _close(g["dZ"], dZ, (l, "dZ"))
        _close(g["dW"], dZ @ lc["A_prev"].T / m + cfg["l2"] / m * lc["W"], (l, "dW"))
        _close(g["db"], dZ.sum(axis=1, keepdims=True) / m, (l, "db"))
        dA = lc["W"].T @ dZ


def test_served_numbers_recompute_independently(trained):
    _, run, _ = trained
    for t in (0, run.num_steps // 2, run.num_steps - 1):
        _recompute(run.step_record(t), run.config)


def test_optimizer_update_recomputes_from_the_gradients():
    """Two adam steps from the records' own dW, db: the update is the course's adam."""
    run = Run(normalize_config(CONFIGS["adam_l2"])).train()
    cfg = run.config
    v = s = None
    for t in range(3):
        record = run.step_record(t)
        grads = np.concatenate([np.r_[e["grads"]["dW"].ravel(), e["grads"]["db"].ravel()]
                                for e in record["layers"]])
        update = np.concatenate([np.r_[e["update"]["W"].ravel(), e["update"]["b"].ravel()]
                                 for e in record["layers"]])
        if v is None:
            v, s = np.zeros_like(grads), np.zeros_like(grads)
        v = cfg["beta1"] * v + (1 - cfg["beta1"]) * grads
        s = cfg["beta2"] * s + (1 - cfg["beta2"]) * grads**2
        v_hat, s_hat = v / (1 - cfg["beta1"] ** (t + 1)), s / (1 - cfg["beta2"] ** (t + 1))
        expected = -cfg["learning_rate"] * v_hat / (np.sqrt(s_hat) + cfg["epsilon"])
        # the recorded update is θ_{t+1} − θ_t: one extra rounding of θ's size
        np.testing.assert_allclose(update, expected, rtol=1e-9, atol=1e-15)


# ---------------------------------------------------------------- summary


def test_summary_series_match_the_records(trained):
    _, run, _ = trained
    summary = run.summary()
    n = run.num_steps
    assert summary["steps"] == n
    regression = run.data.info.task == "regression"
    for key in ("cost", "epoch"):
        assert len(summary[key]) == n
    series = ["train_r2", "test_r2"] if regression else ["train_accuracy", "test_accuracy"]
    for key in series:
        assert len(summary[key]) == n
    if regression:
        assert summary["train_accuracy"] is None and summary["test_accuracy"] is None
    else:
        assert "train_r2" not in summary and "test_r2" not in summary
    assert [e["l"] for e in summary["layers"]] == list(range(1, run.L + 1))
    for entry in summary["layers"]:
        for stat in stats.LAYER_STATS:
            assert len(entry[stat]) == n
        # docs/api.md: norms of dW, db and W, the update ratio, Z and A statistics
        assert {"W_norm", "dW_norm", "db_norm", "update_ratio", "Z_mean", "Z_std", "A_mean",
                "A_std"} <= set(entry)
    for t in range(n):
        record = run.step_record(t)
        assert summary["cost"][t] == record["cost"]
        assert summary["epoch"][t] == record["epoch"]
        for entry, layer in zip(summary["layers"], record["layers"], strict=True):
            _check_layer_stats(entry, layer, t)


def _check_layer_stats(entry, layer, t):
    lc, g = layer["linear_cache"], layer["grads"]
    Z, A = layer["activation_cache"]["Z"], layer["A"]
    # norms and moments of the recorded tensors, reduced in another order: 1e-12
    expected = {
        "W_norm": np.linalg.norm(lc["W"]), "dW_norm": np.linalg.norm(g["dW"]),
        "db_norm": np.linalg.norm(g["db"]), "dA_norm": np.linalg.norm(g["dA"]),
        "dZ_norm": np.linalg.norm(g["dZ"]), "b_norm": np.linalg.norm(lc["b"]),
        "update_norm": np.linalg.norm(layer["update"]["W"]),
        "Z_mean": Z.mean(), "Z_min": Z.min(), "Z_max": Z.max(),
        "A_mean": A.mean(), "A_min": A.min(), "A_max": A.max(),
    }
    # ‖ΔW‖ is the optimizer's step, not θ_{t+1} − θ_t: rounding θ − step moves that
    # difference by up to u·‖W_{t+1}‖ (engine.stats)
    update_rel = 1e-12
    if expected["update_norm"] > 0:
        update_rel = max(1e-12, 2.3e-16 * np.linalg.norm(lc["W"] + layer["update"]["W"])
                         / expected["update_norm"])
    for stat, value in expected.items():
        if stat in entry:  # the statistics offered may grow; each one must be right
            # a mean near 0 is a cancelling sum: its error scales with the entries, not itself
            tensor = {"Z": Z, "A": A}.get(stat.split("_")[0])
            scale = 0.0 if tensor is None else 1e-12 * float(np.abs(tensor).max())
            rel = update_rel if stat == "update_norm" else 1e-12
            assert entry[stat][t] == pytest.approx(value, rel=rel, abs=scale), (t, stat)
    # the engine takes std as √(E[x²] − mean²): the difference cancels to ~u·mean², so
    # its square root is off by up to ~√(c·u)·|mean| ≈ 3e-8·|mean| (exactly 0 if constant)
    for name, X in (("Z_std", Z), ("A_std", A)):
        floor = 4e-8 * abs(X.mean()) + 1e-9 * np.abs(X).max()
        assert entry[name][t] == pytest.approx(X.std(), rel=1e-9, abs=floor), (t, name)
    if expected["W_norm"] > 0:
        assert entry["update_ratio"][t] == pytest.approx(
            expected["update_norm"] / expected["W_norm"], rel=update_rel + 1e-12)
    else:
        assert math.isnan(entry["update_ratio"][t])  # no ratio to a zero matrix
    if layer["activation"] == "relu":
        dead = np.mean(Z.max(axis=1) <= 0)
        assert entry["dead_fraction"][t] == dead
    else:
        assert math.isnan(entry["dead_fraction"][t])
    if layer["activation"] in stats.SATURATION:
        # g(Z) outside (0.01, 0.99) for sigmoid, (-0.99, 0.99) for tanh; on g(Z), not on
        # the recorded A, which dropout zeroes and scales
        g = 1 / (1 + np.exp(-Z)) if layer["activation"] == "sigmoid" else np.tanh(Z)
        low = 0.01 if layer["activation"] == "sigmoid" else -0.99
        assert entry["saturated_fraction"][t] == pytest.approx(
            np.mean((g < low) | (g > 0.99)), abs=1e-12)
    else:
        assert math.isnan(entry["saturated_fraction"][t])


@pytest.mark.parametrize("learning_rate", [1e-10, 0.5])
def test_update_norm_is_the_applied_update(learning_rate):
    """‖ΔW‖ against θ_{t+1} − θ_t: measured on that difference when the update is
    tiny beside W (the optimizer's step would be off by ~u/ratio), else on the step."""
    run = Run(normalize_config({"dataset": "moons", "hidden_layers": [5], "steps": 3,
                                "init": "he", "learning_rate": learning_rate})).train()
    summary = run.summary()
    for t in range(run.num_steps):
        for layer, entry in zip(run.step_record(t)["layers"], summary["layers"], strict=True):
            difference = np.linalg.norm(layer["update"]["W"])
            ratio = difference / np.linalg.norm(layer["linear_cache"]["W"])
            assert (ratio < 1e-9) == (learning_rate < 1e-9)
            rel = 1e-12 if ratio < 1e-9 else max(1e-12, 2.3e-16 / ratio)
            assert entry["update_norm"][t] == pytest.approx(difference, rel=rel, abs=0), (t, ratio)


@pytest.mark.parametrize("raw", [
    {"dataset": "digits", "hidden_layers": [32, 16], "steps": 40},  # Z and A: several MB
    {**BASE, "hidden_layers": [128] * 5, "steps": 30, "learning_rate": 0.05},  # a big θ
], ids=["digits", "wide"])
def test_a_finished_run_lets_go_of_its_training_buffers(raw):
    """While training, the forward writes into chunk buffers, and θ_{t+1} into a ring
    of rows; afterwards a run holds its checkpoints and series, which nbytes() counts."""
    cfg = normalize_config(raw)
    data = load_dataset(cfg["dataset"], cfg["n_samples"], cfg["noise"], cfg["test_fraction"],
                        cfg["seed"])
    data_bytes = sum(a.nbytes for a in (data.X_train, data.Y_train, data.X_test, data.Y_test))
    counted = []  # nbytes() against what is traced, while training
    tracemalloc.start()
    try:
        run = Run(cfg, data)
        run.train(progress=lambda *_: counted.append(
            (run.nbytes(), tracemalloc.get_traced_memory()[0])))
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run._series.chunk > 1 and peak > 2**20  # the buffers were there
    # nbytes() also counts the data, allocated before; it leaves out a few small
    # arrays (class labels, the shared vector of ones)
    assert held < run.nbytes() + 2**18
    # while training, nbytes() counts the buffers once (and the data, untraced here)
    assert counted and all(n <= traced + data_bytes + 2**20 for n, traced in counted)


@pytest.mark.parametrize("raw", [
    {"dataset": "digits", "hidden_layers": [32, 16], "steps": 40},
    {**BASE, "optimizer": "adam", "steps": 25},
], ids=["digits", "adam"])
def test_peak_nbytes_bounds_what_a_run_holds_from_queued_to_read(raw):
    """What a cache counts for a run (issue 15, memory within the budget): before it trains,
    while it trains and while its steps are read, nbytes() never exceeds peak_nbytes(), and
    a trained run whose recent replays are full holds exactly that."""
    run = Run(normalize_config(raw))
    peak = run.peak_nbytes()
    seen = []
    run.train(progress=lambda *_: seen.append((run.nbytes(), run.peak_nbytes())))
    for t in (1, 7, 13, 19):  # more than RECENT_STEPS steps, far apart
        run.step_record(t)
        seen.append((run.nbytes(), run.peak_nbytes()))
    assert seen and all(now <= most <= peak for now, most in seen)
    assert len(run._recent) == run_module.RECENT_STEPS
    assert run.nbytes() == run.peak_nbytes()


@pytest.mark.parametrize("stop", [False, True])
def test_when_trained_calls_back_once_training_has_ended_however(stop):
    run = Run(normalize_config({**BASE, "steps": 30}))
    calls = []
    run.when_trained(lambda: calls.append(run.status))
    assert calls == []
    run.train(should_stop=(lambda: True) if stop else None)
    run.when_trained(lambda: calls.append("at once"))  # after the end: called right away
    assert calls == ["stopped" if stop else "done", "at once"]


def test_std_of_a_constant_tensor_is_zero():
    run = Run(normalize_config(EDGE_CONFIGS["zeros_init"])).train()
    summary = run.summary()
    wrong = []
    for t in range(run.num_steps):
        for layer, entry in zip(run.step_record(t)["layers"], summary["layers"], strict=True):
            for name, X in (("Z", layer["activation_cache"]["Z"]), ("A", layer["A"])):
                if np.ptp(X) == 0 and entry[f"{name}_std"][t] != 0.0:
                    wrong.append((t, layer["l"], name, entry[f"{name}_std"][t]))
    # e.g. step 2, layer 3: every A is 0.43621..., std reported as 1.29e-8
    assert not wrong


def _own_forward(record, X):
    A = X
    for layer in record["layers"]:
        A = _ACTIVATIONS[layer["activation"]](layer["linear_cache"]["W"] @ A
                                              + layer["linear_cache"]["b"])
    return A


def _own_metric(task, AL, Y):
    if task == "regression":
        return 1 - np.sum((AL - Y) ** 2) / np.sum((Y - Y.mean()) ** 2)
    if Y.shape[0] == 1:
        return np.mean((AL > 0.5) == (Y > 0.5))
    return np.mean(AL.argmax(0) == Y.argmax(0))


def test_accuracy_and_r2_are_of_theta_t(trained):
    _, run, _ = trained
    summary = run.summary()
    task, data = run.data.info.task, run.data
    train_key, test_key = ("train_r2", "test_r2") if task == "regression" else \
        ("train_accuracy", "test_accuracy")
    measured = [t for t, v in enumerate(summary[train_key]) if not math.isnan(v)]
    assert measured == list(range(run.num_steps))  # every step, mini-batch runs included
    for t in measured:
        record = run.step_record(t)
        for key, X, Y in ((train_key, data.X_train, data.Y_train),
                          (test_key, data.X_test, data.Y_test)):
            value = summary[key][t]
            if Y.shape[1] == 0:
                assert math.isnan(value)  # no test set: not measured
                continue
            expected = _own_metric(task, _own_forward(record, X), Y)
            if task != "regression":
                assert 0.0 <= value <= 1.0
                # a prediction within rounding of 0.5 could flip; none is that close here
                assert value == pytest.approx(expected, abs=1e-12), (t, key)
            else:
                assert value == pytest.approx(expected, rel=1e-9, abs=1e-12), (t, key)


@pytest.mark.parametrize("dataset", ["spiral", "iris"])
def test_tied_outputs_are_not_all_correct(dataset):
    run = Run(normalize_config({"dataset": dataset, "init": "zeros", "steps": 2})).train()
    summary, data = run.summary(), run.data
    record = run.step_record(0)
    AL = _own_forward(record, data.X_train)
    assert np.ptp(AL, axis=0).max() == 0  # every output is 1/K: all tied
    assert summary["train_accuracy"][0] == pytest.approx(
        _own_metric("multiclass", AL, data.Y_train), abs=1e-12)
    assert summary["train_accuracy"][0] < 0.5 and summary["test_accuracy"][0] < 0.5


# ---------------------------------------------------------------- divergence


def _first_non_finite(record):
    """The first non-finite tensor in computation order: forward, cost, backward, update."""
    layers = record["layers"]
    for e in layers:
        for name, tensor in (("Z", e["activation_cache"]["Z"]), ("A", e["A"])):
            if not np.isfinite(tensor).all():
                return e["l"], name
    if not math.isfinite(record["cost"]):
        return len(layers), "cost"
    for e in reversed(layers):
        for name in ("dA", "dZ", "dW", "db"):
            if not np.isfinite(e["grads"][name]).all():
                return e["l"], name
    for e in layers:
        if not (np.isfinite(e["update"]["W"]).all() and np.isfinite(e["update"]["b"]).all()):
            return e["l"], "update"
    return None


@pytest.mark.parametrize(("raw", "tensor"), [(DIVERGES_AT_COST, "cost"), (DIVERGES_IN_Z, "Z")])
def test_divergence_names_the_first_non_finite_tensor(raw, tensor):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may leak from numpy
        run = Run(normalize_config(raw)).train()
        summary = run.summary()
        step = run.diverged["step"]
        record = run.step_record(step)
        earlier = run.step_record(step - 1)
        histograms = run.histograms()
        run.gradcheck(step)  # its verdict is a separate test; here: no warning escapes
    assert run.status == "diverged" and run.progress == 1.0
    assert set(run.diverged) == {"step", "layer", "tensor"}
    assert run.num_steps == step + 1 < raw["steps"]
    assert run.info()["diverged"] == run.diverged
    assert _first_non_finite(record) == (run.diverged["layer"], run.diverged["tensor"])
    assert run.diverged["tensor"] == tensor
    assert _first_non_finite(earlier) is None
    assert len(summary["cost"]) == step + 1
    assert all(math.isfinite(c) for c in summary["cost"][:step])
    with pytest.raises(IndexError):
        run.step_record(step + 1)
    assert len(histograms["steps"]) >= 1 and histograms["steps"][-1] == step


def test_gradcheck_does_not_pass_non_finite_gradients():
    run = Run(normalize_config(DIVERGES_AT_COST)).train()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check = run.gradcheck(run.diverged["step"])
    assert not check["passed"]
    assert not check["relative_difference"] < THRESHOLD


def test_no_divergence_in_finite_runs(trained):
    _, run, _ = trained
    assert run.diverged is None and run.status == "done" and run.progress == 1.0


# ---------------------------------------------------------------- histograms


def test_histograms_share_fixed_edges_and_count_every_entry():
    run = Run(normalize_config({**BASE, "steps": 30, "keep_prob": 0.9})).train()
    h = run.histograms(snapshots=7)
    assert h["edges"] == options()["histogram_edges"]
    assert h["edges"] == sorted(h["edges"]) and len(set(h["edges"])) == len(h["edges"])
    assert h["steps"] == sorted(set(h["steps"])) and h["steps"][0] == 0
    assert h["steps"][-1] == run.num_steps - 1 and len(h["steps"]) == 7
    bins = np.concatenate([[-np.inf], h["edges"], [np.inf]])
    for entry in h["layers"]:
        for k, t in enumerate(h["steps"]):
            layer = run.step_record(t)["layers"][entry["l"] - 1]
            tensors = {"Z": layer["activation_cache"]["Z"], "A": layer["A"],
                       "dZ": layer["grads"]["dZ"], "dW": layer["grads"]["dW"]}
            for name, tensor in tensors.items():
                counts = entry[name][k]
                assert len(counts) == len(h["edges"]) + 1
                assert sum(counts) == tensor.size
                np.testing.assert_array_equal(counts, np.histogram(tensor, bins=bins)[0])
    assert run.histograms(snapshots=7) is h  # computed once


@pytest.mark.parametrize(("raw", "on_checkpoints"), [
    ({**BASE, "steps": 30}, False),
    # cheap steps, a checkpoint every 286: 50 evenly spread steps replay quickly
    ({"dataset": "digits", "hidden_layers": [128] * 6, "batch_size": 1, "steps": 2000}, False),
    # the biggest valid run keeps a checkpoint every 34 costly steps
    ({"dataset": "digits", "hidden_layers": [128] * 6, "optimizer": "adam", "steps": 2000}, True),
], ids=["small", "cheap_sparse", "biggest"])
def test_default_histogram_steps_bound_their_replay(raw, on_checkpoints):
    """Evenly spread while replaying them is quick; on checkpoints (but for the last)
    when it is not, so that each recomputes about one step, not up to an interval."""
    run = Run(normalize_config(raw))
    run.num_steps = run.config["steps"]  # as if trained: only the step arithmetic is used
    steps = run.histogram_steps(50)
    assert steps[0] == 0 and steps[-1] == run.num_steps - 1
    if on_checkpoints:
        assert all(t % run.interval == 0 for t in steps[:-1])
        assert run.replays_for(steps) <= len(steps) - 1 + run.interval
    else:
        assert steps == evaluation.spread_steps(run.num_steps, 50)
    seconds = run.replays_for(steps) * run.step_multiply_adds / run_module.MULTIPLY_ADDS_PER_SECOND
    assert seconds <= run_module.HISTOGRAM_SECONDS or on_checkpoints


def test_replays_for_counts_steps_recomputed_in_order():
    run = Run(normalize_config({**BASE, "steps": 30}))
    assert run.interval == 2
    # 13 from 12; 14 from its checkpoint; 15 continues from 14; 29 from 28
    assert run.replays_for([29, 13, 14, 15]) == 2 + 1 + 1 + 2


def test_histograms_at_any_steps():
    """Any recorded step on demand, by replay: the counts of that step's tensors."""
    run = Run(normalize_config({**BASE, "steps": 30})).train()
    h = run.histograms(steps=[13, 29])
    assert h["steps"] == [13, 29]
    bins = np.concatenate([[-np.inf], h["edges"], [np.inf]])
    for entry in h["layers"]:
        for k, t in enumerate(h["steps"]):
            Z = run.step_record(t)["layers"][entry["l"] - 1]["activation_cache"]["Z"]
            np.testing.assert_array_equal(entry["Z"][k], np.histogram(Z, bins=bins)[0])
    for bad in ([30], [-1]):
        with pytest.raises(IndexError):
            run.histograms(steps=bad)


# ---------------------------------------------------------------- gradient check

GRADCHECK_CONFIGS = {
    # wide_momentum's layers are sampled, as in test_gradcheck_samples_big_layers_and_answers_fast
    **{k: v for k, v in CONFIGS.items() if k != "wide_momentum"},
    # zeros_init keeps Z[1] = 0 on relu's kink forever; digits' layers get sampled
    **{k: v for k, v in EDGE_CONFIGS.items() if k not in ("zeros_init", "softmax_mse")},
    "adam_dropout_minibatch_l2": {**BASE, "optimizer": "adam", "learning_rate": 0.01,
                                  "keep_prob": 0.7, "batch_size": 25, "l2": 0.3},
    "momentum_l2_dropout": {**BASE, "optimizer": "momentum", "keep_prob": 0.8, "l2": 1.0},
    "rmsprop_minibatch": {**BASE, "optimizer": "rmsprop", "learning_rate": 0.01,
                          "batch_size": 10},
    "sigmoid_tanh": {**BASE, "activations": ["sigmoid", "tanh", "sigmoid"], "init": "xavier"},
    "softmax_mse": {"dataset": "iris", "hidden_layers": [5], "loss": "mse", "steps": 10,
                    "activations": ["tanh", "softmax"]},
}


def _exact_kinks(record):
    """Count of relu / leaky relu pre-activations exactly at the kink Z = 0."""
    return sum(int(np.count_nonzero(e["activation_cache"]["Z"] == 0)) for e in record["layers"]
               if e["activation"] in ("relu", "leaky_relu"))


@pytest.mark.parametrize("name", list(GRADCHECK_CONFIGS))
def test_gradcheck_passes(name):
    raw = GRADCHECK_CONFIGS[name]
    run = Run(normalize_config(raw)).train()
    for t in (1, run.num_steps - 1):
        # a centred difference across relu's kink measures neither slope (the kink test
        # below covers those); these steps have no Z exactly at 0
        assert _exact_kinks(run.step_record(t)) == 0
        check = run.gradcheck(t)
        assert {"step", "epsilon", "threshold", "layers", "relative_difference",
                "passed"} <= set(check)
        assert all(set(e) == {"l", "relative_difference", "checked", "total"}
                   for e in check["layers"])
        assert check["step"] == t and check["threshold"] == THRESHOLD
        assert check["passed"] is True, check
        assert check["relative_difference"] < check["threshold"]
        assert [e["l"] for e in check["layers"]] == list(range(1, run.L + 1))
        for e, (n, n_prev) in zip(check["layers"], zip(run.dims[1:], run.dims, strict=False),
                                  strict=True):
            assert e["total"] == n * n_prev + n
            assert e["checked"] == e["total"]  # small layers are checked whole
            assert 0 <= e["relative_difference"] < THRESHOLD


@pytest.mark.parametrize("raw", [{"seed": 2, "steps": 1}, {"keep_prob": 0.7, "steps": 1}],
                         ids=["default_seed2", "dropout"])
def test_gradcheck_does_not_fail_a_correct_backprop_at_a_kink(raw):
    run = Run(normalize_config(raw)).train()
    assert _exact_kinks(run.step_record(0)) > 0  # the situation under test
    assert run.gradcheck(0)["passed"]


def test_gradcheck_does_not_fail_vanishing_gradients():
    run = Run(normalize_config({"steps": 300, "hidden_layers": [8, 8, 8, 8], "init": "course",
                                "activations": ["sigmoid"] * 5})).train()
    check = run.gradcheck(299)
    assert check["passed"] is not False, check


def test_gradcheck_samples_big_layers_within_a_bounded_amount_of_work(monkeypatch):
    """docs/api.md: "any valid run answers within a second or two". Counted, not timed (a busy
    machine would make seconds flaky; timings belong in bench/): the cost evaluations of a
    check on a big net stay within gradcheck.BUDGET multiply-adds, about a second."""
    run = Run(normalize_config({"dataset": "digits", "hidden_layers": [128, 128, 128],
                                "steps": 2})).train()
    replayed = run.replay(1)
    dims, m, L = replayed.layout.dims, replayed.X.shape[1], len(replayed.layout.dims) - 1
    evaluations = collections.Counter()
    cost_from = gradcheck._cost_from

    def counted(result, cfg, l, Z_l):
        evaluations[l] += 1
        return cost_from(result, cfg, l, Z_l)

    monkeypatch.setattr(gradcheck, "_cost_from", counted)
    check = run.gradcheck(1)
    # one evaluation: layer l's activation of Z_l, then W[k] @ A[k-1] for every later layer
    work = sum(n * m * (dims[l] + sum(dims[k] * dims[k - 1] for k in range(l + 1, L + 1)))
               for l, n in evaluations.items())
    assert sorted(evaluations) == list(range(1, L + 1))
    assert work <= gradcheck.BUDGET
    assert gradcheck.BUDGET / run_module.MULTIPLY_ADDS_PER_SECOND <= 1.0
    assert check["passed"]
    assert any(e["checked"] < e["total"] for e in check["layers"])
    assert sum(e["checked"] for e in check["layers"]) <= 2000


def test_gradcheck_reports_sampling_of_a_big_layer():
    """The sampling itself, on a net that checks quickly: breast_cancer into 128 units."""
    run = Run(normalize_config({"dataset": "breast_cancer", "hidden_layers": [128],
                                "steps": 2, "test_fraction": 0.5})).train()
    check = run.gradcheck(1, max_params=400)
    first, last = check["layers"]
    assert first["total"] == 30 * 128 + 128 and first["checked"] < first["total"]
    assert last["total"] == 129 and last["checked"] <= last["total"]
    assert sum(e["checked"] for e in check["layers"]) <= 400
    assert check["passed"], check
    # deterministic: the same positions every time
    assert run.gradcheck(1, max_params=400) == check


# ---------------------------------------------------------------- progress and stopping


def test_progress_callback_and_should_stop():
    calls = []
    run = Run(normalize_config({**BASE, "steps": 60}))
    assert run.status == "pending" and run.num_steps == 0 and run.progress == 0.0
    run.train(progress=lambda done, total: calls.append((done, total)),
              should_stop=lambda: len(calls) >= 2)
    # done counts summarized steps, which may lag the step being computed
    assert len(calls) == 2 and all(0 <= done <= total == 60 for done, total in calls)
    assert calls[0][0] <= calls[1][0]
    # stopped after the step whose progress call was the second, i.e. step 49
    assert run.num_steps == 50 and run.status == "stopped"
    assert len(run.summary()["cost"]) == 50
    run.step_record(49)


@pytest.mark.parametrize(("raw", "interval"), [
    # small θ: a checkpoint every MIN_INTERVAL steps
    ({"dataset": "digits", "hidden_layers": [32, 16], "steps": 1000}, run_module.MIN_INTERVAL),
    # the biggest valid runs: replay time gives way to the cap on memory
    ({"dataset": "digits", "hidden_layers": [128] * 6, "optimizer": "adam", "steps": 2000},
     None),
    ({"dataset": "moons", "n_samples": 2000, "hidden_layers": [128] * 6, "optimizer": "adam",
      "steps": 2000}, None),
    # cheap mini-batch steps of a big θ: the 16 MB budget decides
    ({"dataset": "digits", "hidden_layers": [128] * 6, "batch_size": 32, "steps": 2000}, None),
], ids=["small", "biggest_digits", "biggest_moons", "big_minibatch"])
def test_checkpoints_fit_the_cap(raw, interval):
    """Checkpoints (θ and the optimizer's moments every K steps) never hold more than
    CHECKPOINT_CAP, whatever the config (6×128 adam on 2,000 examples once kept 850 MB)."""
    run = Run(normalize_config(raw))
    moments = 1 + len(MOMENTS[run.config["optimizer"]])
    count = -(-run.config["steps"] // run.interval)  # steps 0, K, 2K, ... below steps
    assert count * run.theta0.nbytes * moments <= run_module.CHECKPOINT_CAP
    if interval is not None:
        assert run.interval == interval
