"""Step records: served tensors equal an independent NumPy recomputation; narrowing
by layers, fields and max_cells works as docs/api.md says."""

import math

import numpy as np
import pytest

from app.serialize import block_factors
from engine.config import normalize_config
from engine.run import Run
from tests.test_serialize import reference_block_mean


def softmax(Z):
    E = np.exp(Z - Z.max(axis=0))
    return E / E.sum(axis=0)


# g(Z) and g'(Z) written out again here, independently of engine.activations
G = {"relu": (lambda Z: np.maximum(Z, 0), lambda Z: (Z > 0) * 1.0),
     "leaky_relu": (lambda Z: np.where(Z > 0, Z, 0.01 * Z), lambda Z: np.where(Z > 0, 1, 0.01)),
     "tanh": (np.tanh, lambda Z: 1 - np.tanh(Z) ** 2),
     "sigmoid": (lambda Z: 1 / (1 + np.exp(-Z)), lambda Z: np.exp(-Z) / (1 + np.exp(-Z)) ** 2),
     "linear": (lambda Z: Z, lambda Z: np.ones_like(Z)),
     "softmax": (softmax, None)}

CONFIGS = {
    "moons relu gd": {"dataset": "moons", "n_samples": 120, "hidden_layers": [5, 4],
                      "steps": 12},
    "spiral tanh momentum l2 mini-batch": {
        "dataset": "spiral", "n_samples": 150, "hidden_layers": [6],
        "activations": ["tanh", "softmax"], "optimizer": "momentum", "l2": 0.3,
        "batch_size": 32, "steps": 12},
    "sine leaky adam dropout": {
        "dataset": "sine", "n_samples": 80, "hidden_layers": [7, 5],
        "activations": ["leaky_relu", "sigmoid", "linear"], "optimizer": "adam",
        "learning_rate": 0.01, "keep_prob": 0.8, "steps": 12},
    "iris sigmoid rmsprop": {"dataset": "iris", "hidden_layers": [5],
                             "activations": ["sigmoid", "softmax"], "optimizer": "rmsprop",
                             "learning_rate": 0.01, "steps": 12},
}
CLOSE = {"rtol": 1e-12, "atol": 1e-12}


def arr(tensor):
    return np.array([[np.nan if v is None else v for v in row] for row in tensor["data"]])


def fetch(client, run_id, t, query=""):
    response = client.get(f"/api/runs/{run_id}/steps/{t}{query}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module", params=list(CONFIGS))
def served(request, client):
    raw = CONFIGS[request.param]
    info = client.post("/api/runs", json=raw).json()
    assert info["status"] == "done"
    return info, fetch(client, info["id"], 5), fetch(client, info["id"], 6)


def test_batch_is_the_training_examples_named_by_indices(served):
    info, record, _ = served
    data = Run(normalize_config(info["config"])).data
    idx = record["batch"]["indices"]
    assert np.array_equal(arr(record["batch"]["X"]), data.X_train[:, idx])
    assert np.array_equal(arr(record["batch"]["Y"]), data.Y_train[:, idx])
    assert len(idx) == (info["config"]["batch_size"] or data.X_train.shape[1])


def test_forward_is_g_of_w_a_prev_plus_b(served):
    info, record, _ = served
    keep_prob, layers = info["config"]["keep_prob"], record["layers"]
    A = arr(record["batch"]["X"])
    for layer in layers:
        lc = layer["linear_cache"]
        A_prev, W, b, Z = arr(lc["A_prev"]), arr(lc["W"]), arr(lc["b"]), \
            arr(layer["activation_cache"]["Z"])
        assert np.array_equal(A_prev, A)  # A_prev of layer l is A of layer l-1, as sent
        np.testing.assert_allclose(Z, W @ A_prev + b, **CLOSE)
        expected = G[layer["activation"]][0](Z)
        if layer["D"] is not None:
            expected = expected * arr(layer["D"]) / keep_prob
        A = arr(layer["A"])
        np.testing.assert_allclose(A, expected, **CLOSE)
    assert layers[-1]["D"] is None
    assert all((layer["D"] is not None) == (keep_prob < 1) for layer in layers[:-1])


def test_backward_follows_the_course_formulas(served):
    info, record, _ = served
    cfg, layers = info["config"], record["layers"]
    m = len(record["batch"]["indices"])
    Y = arr(record["batch"]["Y"])
    np.testing.assert_allclose(arr(layers[-1]["grads"]["dZ"]), arr(layers[-1]["A"]) - Y,
                               rtol=1e-9, atol=1e-12)  # the natural heads: dZ[L] = A[L] - Y
    for layer, below in zip(layers[::-1], [*layers[-2::-1], None], strict=True):
        g, lc = layer["grads"], layer["linear_cache"]
        dZ, A_prev, W = arr(g["dZ"]), arr(lc["A_prev"]), arr(lc["W"])
        if layer["activation"] != "softmax":
            dA = arr(g["dA"])
            if layer["D"] is not None:  # the gradient passes only kept units, scaled
                dA = dA * arr(layer["D"]) / cfg["keep_prob"]
            derivative = G[layer["activation"]][1](arr(layer["activation_cache"]["Z"]))
            np.testing.assert_allclose(dZ, dA * derivative, **CLOSE)
        np.testing.assert_allclose(arr(g["dW"]), dZ @ A_prev.T / m + cfg["l2"] / m * W, **CLOSE)
        np.testing.assert_allclose(arr(g["db"]), dZ.sum(axis=1, keepdims=True) / m, **CLOSE)
        if below is not None:
            np.testing.assert_allclose(arr(below["grads"]["dA"]), W.T @ dZ, **CLOSE)


def test_update_is_the_change_to_the_next_step(served):
    info, record, after = served
    for layer, next_layer in zip(record["layers"], after["layers"], strict=True):
        for name in ("W", "b"):
            change = arr(next_layer["linear_cache"][name]) - arr(layer["linear_cache"][name])
            assert np.array_equal(arr(layer["update"][name]), change)
            if info["config"]["optimizer"] == "gd":
                np.testing.assert_allclose(
                    change, -info["config"]["learning_rate"] * arr(layer["grads"][f"d{name}"]),
                    **CLOSE)


def present(record):
    """Names of the tensors a record holds, as (layer or 0, name)."""
    names = {(0, n) for n in ("X", "Y") if n in record.get("batch", {})}
    for layer in record["layers"]:
        groups = [layer["linear_cache"], layer["activation_cache"], layer["grads"],
                  {k: layer[k] for k in ("A", "D") if k in layer}]
        names |= {(layer["l"], n) for group in groups for n in group}
        if "update" in layer:
            names.add((layer["l"], "update"))
    return names


ALL_LAYER = {"A_prev", "W", "b", "Z", "A", "D", "dA", "dZ", "dW", "db", "update"}


@pytest.mark.parametrize(("query", "layers", "batch", "tensors"), [
    ("", [1, 2, 3], {"X", "Y"}, ALL_LAYER),
    ("?layers=2", [2], {"X", "Y"}, ALL_LAYER),
    ("?layers=3,1", [1, 3], {"X", "Y"}, ALL_LAYER),
    ("?fields=Z,dW", [1, 2, 3], None, {"Z", "dW"}),
    ("?fields=X", [1, 2, 3], {"X"}, set()),
    ("?fields=Y,update&layers=1", [1], {"Y"}, {"update"}),
    ("?fields=D,A_prev,b", [1, 2, 3], None, {"D", "A_prev", "b"}),
])
def test_layers_and_fields_narrow_the_record(client, small_run, query, layers, batch, tensors):
    record = fetch(client, small_run["id"], 3, query)
    assert [layer["l"] for layer in record["layers"]] == layers
    assert ("batch" in record) == (batch is not None)
    if batch is not None:
        assert set(record["batch"]) == batch | {"indices"}
    expected = {(0, n) for n in batch or ()} | {(l, n) for l in layers for n in tensors}
    assert present(record) == expected
    assert (record["run_id"], record["step"]) == (small_run["id"], 3)


@pytest.mark.parametrize("max_cells", [1, 7, 50, 400])
def test_max_cells_block_averages_every_tensor(client, max_cells):
    run = client.post("/api/runs", json={"dataset": "moons", "n_samples": 250,
                                         "hidden_layers": [9], "steps": 3}).json()
    full = fetch(client, run["id"], 1)
    small = fetch(client, run["id"], 1, f"?max_cells={max_cells}")

    def pairs(a, b):
        if isinstance(a, dict) and "shape" in a:
            yield a, b
        elif isinstance(a, dict):
            for key in a:
                yield from pairs(a[key], b[key])
        elif isinstance(a, list):
            for x, y in zip(a, b, strict=True):
                yield from pairs(x, y)

    for whole, reduced in pairs(full, small):
        R, C = whole["shape"]
        assert math.prod(reduced["shape"]) <= max_cells or max_cells >= R * C
        if max_cells >= R * C:
            assert reduced == whole
            continue
        assert reduced["downsampled_from"] == [R, C]
        fr, fc = block_factors((R, C), max_cells)
        np.testing.assert_allclose(arr(reduced), reference_block_mean(arr(whole), fr, fc),
                                   rtol=1e-12, atol=1e-15)


def test_tensors_above_the_server_limit_are_downsampled(make_client):
    tight = make_client(max_tensor_cells=100)
    run = tight.post("/api/runs", json={"dataset": "moons", "n_samples": 100,
                                        "hidden_layers": [4], "steps": 2}).json()
    record = fetch(tight, run["id"], 0, "?max_cells=100000")  # cannot exceed the limit
    Z = record["layers"][0]["activation_cache"]["Z"]
    assert Z["downsampled_from"] == [4, 80] and math.prod(Z["shape"]) <= 100
    assert "downsampled_from" not in record["layers"][0]["linear_cache"]["W"]
