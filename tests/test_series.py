"""engine.series: a run's summary against its step records (cost, epoch, every layer's
statistics), and how a chunk's steps are queued and summarized (the scores:
test_step_scores)."""

import math

import numpy as np
import pytest
from trained_runs import BASE

from engine import stats
from engine.config import normalize_config
from engine.losses import FUSED
from engine.mistakes import bug_active
from engine.run import Run
from engine.series import QueuedStep, Series

# matmul results may depend on the BLAS thread count: pinned as the server pins it
pytestmark = pytest.mark.usefixtures("pinned_blas")


def _keys(task):
    """The summary's score series: (batch, train, test)."""
    suffix = "r2" if task == "regression" else "accuracy"
    return tuple(f"{name}_{suffix}" for name in ("batch", "train", "test"))


def test_summary_series_match_the_records(trained):
    _, run, _ = trained
    summary = run.summary()
    n = run.num_steps
    assert summary["steps"] == n
    regression = run.data.info.task == "regression"
    for key in ("cost", "epoch"):
        assert len(summary[key]) == n
    for key in _keys(run.data.info.task):
        assert len(summary[key]) == n
    other = "accuracy" if regression else "r2"
    if regression:
        assert all(summary[f"{name}_{other}"] is None for name in ("batch", "train", "test"))
    else:
        assert not {f"{name}_{other}" for name in ("batch", "train", "test")} & set(summary)
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
            _check_layer_stats(entry, layer, t, fused=entry["l"] == run.L and (
                run.config["activations"][-1], run.config["loss"]) in FUSED
                and not bug_active(run.config))


def _check_layer_stats(entry, layer, t, fused):
    """fused: the output layer, whose g′ cancels with its loss (dZ[L] = A − Y)."""
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
    # difference by up to u·‖W_{t+1}‖ (engine.parameter_stats)
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
    if layer["activation"] in stats.SATURATION and not fused:
        # g(Z) outside (0.01, 0.99) for sigmoid, (-0.99, 0.99) for tanh; on g(Z), not on
        # the recorded A, which dropout zeroes and scales
        g = 1 / (1 + np.exp(-Z)) if layer["activation"] == "sigmoid" else np.tanh(Z)
        low = 0.01 if layer["activation"] == "sigmoid" else -0.99
        assert entry["saturated_fraction"][t] == pytest.approx(
            np.mean((g < low) | (g > 0.99)), abs=1e-12)
    else:  # a fused output learns at any Z: its saturation is not measured
        assert math.isnan(entry["saturated_fraction"][t])


@pytest.mark.parametrize(("hidden_layers", "small"), [([5, 4], True), ([128] * 5, False)],
                         ids=["small", "big"])
def test_queued_steps_are_named(hidden_layers, small):
    """A queued step is read by field name; a big θ's norms are taken when it is queued,
    so that no θ-sized array waits for the chunk."""
    run = Run(normalize_config({**BASE, "hidden_layers": hidden_layers, "steps": 3,
                                "optimizer": "adam"}))
    series = Series(run.config, run.layout, run.data, run._scores)
    queued = []
    run.train(on_step=lambda t, result: queued.append(series._enter(t, result)))
    assert [type(q) for q in queued] == [QueuedStep] * 3
    assert [q.t for q in queued] == [0, 1, 2] and queued[1].Y is None  # full batch
    # adam's step is not α·dθ: a small θ's step waits in the queue with it
    assert all((q.step is not None) == small for q in queued)
    assert queued[2].cost == run.summary()["cost"][2]
    # the norms of a big θ's step are there before its chunk is summarized
    assert math.isnan(series.layers[1, 0, stats.INDEX["W_norm"]]) == small


def _numbers(summary):
    """{name: float array} of a summary's series, each layer's as "name/l"."""
    flat = {key: values for key, values in summary.items() if isinstance(values, list)
            and key != "layers"}
    for layer in summary["layers"]:
        flat.update({f"{key}/{layer['l']}": values for key, values in layer.items()
                     if isinstance(values, list)})
    return {key: np.array([math.nan if v is None else v for v in values], dtype=float)
            for key, values in flat.items()}


@pytest.mark.parametrize("raw", [
    # full batches: chunks of up to stats.MAX_CHUNK steps, then the rest
    {**BASE, "steps": 150},
    # 80 examples in batches of 30: two steps a chunk, the remainder alone
    {**BASE, "batch_size": 30, "steps": 40, "optimizer": "adam"},
], ids=["full_batch", "minibatch"])
def test_a_chunks_summary_is_each_steps_own(raw, monkeypatch):
    """Steps summarized a chunk at a time get, to within rounding, the numbers that each
    step summarized alone gets: whatever the chunk's size."""
    chunked = Run(normalize_config(raw)).train()
    monkeypatch.setattr(stats, "MAX_CHUNK", 1)
    alone = Run(normalize_config(raw)).train()
    assert chunked.chunk > 1 and alone.chunk == 1
    expected = _numbers(alone.summary())
    got = _numbers(chunked.summary())
    assert got.keys() == expected.keys()
    for key, values in expected.items():
        # a sum that cancels (a mean near 0) differs by rounding of its terms' size
        scale = np.nanmax(np.abs(values), initial=0.0)
        np.testing.assert_allclose(got[key], values, rtol=1e-12, atol=1e-12 * scale,
                                   err_msg=key)


@pytest.mark.parametrize(("bug", "measured"), [(None, False), ("wrong_update_sign", True),
                                               ("no_activation_derivative", True)])
def test_a_sigmoid_outputs_saturation_is_measured_where_training_goes_through_its_derivative(
        bug, measured):
    """sigmoid + BCE trains on dZ[L] = A − Y, at any Z: its saturation is not measured. A
    mistake backpropagates through the course's dA[L] g′(Z[L]) (CONTRACT §7), where a
    saturated output loses its gradient: measured there (lesson 14 climbs to 1.0)."""
    run = Run(normalize_config({"steps": 60, "bug": bug})).train()
    output = run.summary()["layers"][-1]["saturated_fraction"]
    assert run.config["activations"][-1] == "sigmoid"
    if measured:  # (the climb of a wrong sign may diverge before its 60th step)
        for t in (0, run.num_steps - 1):
            Z = run.step_record(t)["layers"][-1]["activation_cache"]["Z"]
            assert output[t] == np.mean(np.abs(Z) > stats.SATURATION["sigmoid"])
    else:
        assert all(v is None or math.isnan(v) for v in output)
