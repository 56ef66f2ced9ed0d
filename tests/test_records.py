"""Tests for engine.records: a step's record in the layout of docs/api.md, narrowed by
layers and fields, dA[L] where training left it out, and where a step went non-finite."""

import numpy as np
import pytest
from trained_runs import ACTIVATIONS, BASE, assert_same_bytes

from engine import records
from engine.config import normalize_config
from engine.losses import loss_backward
from engine.optimizers import init_state
from engine.run import Run
from engine.step import StepRunner

# matmul results may depend on the BLAS thread count: pinned as the server pins it
pytestmark = pytest.mark.usefixtures("pinned_blas")


# ---------------------------------------------------------------- layout and narrowing


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
            g = ACTIVATIONS[layer["activation"]](layer["activation_cache"]["Z"])
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
                assert_same_bytes(tensor, reference[key], key)


def _by_field(entry):
    """A layer entry's tensors by API field name ("update.W", "update.b" for update)."""
    out = {k: v for group in ("linear_cache", "activation_cache", "grads")
           for k, v in entry.get(group, {}).items()}
    out.update({k: entry[k] for k in ("A", "D") if k in entry})
    out.update({f"update.{k}": v for k, v in entry.get("update", {}).items()})
    return out



def test_layers_out_of_range_are_a_value_error_naming_layers():
    run = Run(normalize_config({**BASE, "steps": 2})).train()
    with pytest.raises(ValueError, match=r"^layers: this network has layers 1 to 3"):
        run.step_record(1, layers=[0, 2])
    with pytest.raises(ValueError, match=r"^layers:"):
        run.step_record(1, layers=[4])


# ---------------------------------------------------------------- dA[L]


def _step(raw, t=0):
    """(run, StepResult of its step t), computed by the training path from θ_0."""
    run = Run(normalize_config(raw))
    steps = StepRunner(run.config, run.data, run.layout)
    theta, state = run.theta0, init_state(run.config["optimizer"], run.theta0)
    for s in range(t + 1):
        result = steps.run(s, theta, state)
        theta, state = result.update.new_theta, result.update.new_state
    return run, result


@pytest.mark.parametrize(("raw", "left_out"), [
    ({**BASE}, True),  # sigmoid + BCE: dZ[L] = A - Y
    ({"dataset": "spiral", "n_samples": 60, "hidden_layers": [4]}, True),  # softmax + CCE
    ({"dataset": "sine", "n_samples": 40, "hidden_layers": [4]}, False),  # linear + MSE
    ({**BASE, "loss": "mse"}, False),  # sigmoid + MSE goes through dA[L]
])
def test_output_dA_is_the_loss_gradient_even_where_training_left_it_out(raw, left_out):
    run, result = _step(raw)
    config = run.config
    L = len(result.forward.caches)
    assert (result.backward.grads[f"dA{L}"] is None) == left_out
    expected = loss_backward(config["loss"], result.forward.AL, result.forward.Y)
    np.testing.assert_array_equal(records.layer_dA(result, L, config["loss"]), expected)
    record = records.step_record(result, config, 0)
    np.testing.assert_array_equal(record["layers"][-1]["grads"]["dA"], expected)
    # the hidden layers' dA is the one training computed
    assert records.layer_dA(result, 1, config["loss"]) is result.backward.grads["dA1"]


# ---------------------------------------------------------------- divergence point

SMALL = {**BASE, "hidden_layers": [3, 2]}


def _spoil(run, result, layer, tensor):
    """A copy of a StepResult with one NaN in layer `layer`'s `tensor`."""
    forward, backward, update = result
    if tensor == "cost":
        return result._replace(forward=forward._replace(cost=float("nan")))
    if tensor == "Z":
        (A_prev, W, b), Z = forward.caches[layer - 1]
        caches = list(forward.caches)
        caches[layer - 1] = ((A_prev, W, b), np.full_like(Z, np.nan))
        return result._replace(forward=forward._replace(caches=caches))
    if tensor == "update":
        new_theta = update.new_theta.copy()
        new_params = run.layout.views(new_theta)
        new_params[f"W{layer}"][0, 0] = np.nan
        return result._replace(update=update._replace(new_theta=new_theta, new_params=new_params))
    spoilt = backward.grads[f"{tensor}{layer}"].copy()
    spoilt[0, 0] = np.nan
    grads = {**backward.grads, f"{tensor}{layer}": spoilt}
    return result._replace(backward=backward._replace(grads=grads))


@pytest.mark.parametrize(("spoilt", "expected"), [
    ([], None),
    ([(2, "Z")], (2, "Z")),  # A[2] = g(Z[2]) is NaN too, but Z comes first
    ([(3, "cost")], (3, "cost")),
    ([(1, "dZ"), (2, "dW")], (2, "dW")),  # backward runs from layer L down
    ([(2, "dA"), (2, "db")], (2, "dA")),
    ([(1, "db"), (1, "update")], (1, "db")),  # the update comes after every gradient
    ([(2, "update"), (1, "update")], (1, "update")),
    ([(3, "Z"), (1, "dW")], (3, "Z")),  # the forward before the backward
], ids=str)
def test_divergence_point_names_the_first_non_finite_tensor_in_computation_order(spoilt,
                                                                                   expected):
    run, result = _step(SMALL, t=1)
    for layer, tensor in spoilt:
        result = _spoil(run, result, layer, tensor)
    point = records.divergence_point(result, run.config)
    assert point == (None if expected is None else {"layer": expected[0], "tensor": expected[1]})
