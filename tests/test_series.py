"""engine.series: a run's summary against its step records (cost, epoch, every layer's
statistics), and its scores: each step's batch score, and θ_t's train and test scores at
the cadence of engine.cost.evaluation_interval and at the last step, as a recomputation
from the records gives them."""

import itertools
import math

import numpy as np
import pytest
from trained_runs import ACTIVATIONS, BASE, trained_run

from engine import cost, stats
from engine.config import normalize_config
from engine.losses import FUSED
from engine.mistakes import bug_active
from engine.run import Run
from engine.series import QueuedStep, Series

# matmul results may depend on the BLAS thread count: pinned as the server pins it
pytestmark = pytest.mark.usefixtures("pinned_blas")


def _own_forward(record, X):
    A = X
    for layer in record["layers"]:
        A = ACTIVATIONS[layer["activation"]](layer["linear_cache"]["W"] @ A
                                             + layer["linear_cache"]["b"])
    return A


def _own_score(task, AL, Y):
    """Accuracy or R², plainly; NaN for R² of targets without spread."""
    if task == "regression":
        total = np.sum((Y - Y.mean()) ** 2)
        return 1 - np.sum((AL - Y) ** 2) / total if total > 0 else math.nan
    if Y.shape[0] == 1:
        return np.mean((AL > 0.5) == (Y > 0.5))
    return np.mean(AL.argmax(0) == Y.argmax(0))


def _keys(task):
    """The summary's score series: (batch, train, test)."""
    suffix = "r2" if task == "regression" else "accuracy"
    return tuple(f"{name}_{suffix}" for name in ("batch", "train", "test"))


def _assert_score(value, expected, task, where):
    if task == "regression":
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-12, nan_ok=True), where
    else:
        assert 0.0 <= value <= 1.0, where
        # a prediction within rounding of 0.5 could flip; none is that close here
        assert value == pytest.approx(expected, abs=1e-12), where


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


def test_the_cadence_is_the_cost_estimates(trained):
    """Full batches score the whole sets every step; mini-batches every k steps, k from
    engine.cost, and at the last step."""
    name, run, _ = trained
    data, batch_size = run.data, run.config["batch_size"]
    m_train, m_test = data.X_train.shape[1], data.X_test.shape[1]
    every = run.summary()["evaluated_every"]
    assert every == cost.evaluation_interval(run.dims, batch_size or m_train, m_train, m_test)
    assert (every == 1) == (batch_size is None or batch_size >= m_train), name
    if name in ("minibatch_remainder", "dropout", "batch_of_one", "softmax_mse"):
        assert every > 1  # the table holds mini-batch runs that skip steps


def test_scores_are_a_recomputation_from_the_records(trained):
    """At each evaluated step, train and test scores are θ_t's on the whole sets; elsewhere
    they are not measured (NaN, null in JSON). Every step's batch score is that of the
    output the step computed (dropout's masks included) on its own batch."""
    _, run, _ = trained
    summary, task, data = run.summary(), run.data.info.task, run.data
    batch_key, train_key, test_key = _keys(task)
    every, n = summary["evaluated_every"], run.num_steps
    evaluated = [t for t in range(n) if t % every == 0 or t == n - 1]
    assert [t for t, v in enumerate(summary[train_key]) if not math.isnan(v)] == evaluated
    for t in range(n):
        record = run.step_record(t)
        AL, Y = record["layers"][-1]["A"], record["batch"]["Y"]
        _assert_score(summary[batch_key][t], _own_score(task, AL, Y), task, (t, batch_key))
        for key, X, Y in ((train_key, data.X_train, data.Y_train),
                          (test_key, data.X_test, data.Y_test)):
            value = summary[key][t]
            if t not in evaluated or Y.shape[1] == 0:
                assert math.isnan(value), (t, key)  # not measured, or no test set
                continue
            _assert_score(value, _own_score(task, _own_forward(record, X), Y), task, (t, key))


@pytest.mark.parametrize("name", ["full_batch", "adam_l2", "sine_leaky", "logistic"])
def test_a_full_batch_scores_its_batch_as_the_training_set(name):
    run, _ = trained_run(name)
    summary = run.summary()
    batch_key, train_key, _ = _keys(run.data.info.task)
    assert summary[batch_key] == summary[train_key]
    assert not any(math.isnan(v) for v in summary[train_key])


@pytest.mark.parametrize(("raw", "how"), [
    ({"dataset": "digits", "hidden_layers": [16], "batch_size": 32, "steps": 40}, "stopped"),
    ({"dataset": "sine", "learning_rate": 5, "hidden_layers": [16], "batch_size": 8,
      "steps": 200}, "diverged"),
], ids=["stopped", "diverged"])
def test_a_run_that_ends_early_scores_its_last_step(raw, how):
    """The summary ends with a train and test score, at the last recorded step, however
    the run ended."""
    run, steps = Run(normalize_config(raw)), itertools.count(1)
    # should_stop is asked after each step: stop after the 23rd, wherever a chunk ends
    run.train(should_stop=lambda: next(steps) >= 23 if how == "stopped" else None)
    assert run.status == how
    summary, n = run.summary(), run.num_steps
    every = summary["evaluated_every"]
    assert (n - 1) % every and n < raw["steps"]  # the cadence alone would skip it
    record, data = run.step_record(n - 1), run.data
    _, train_key, test_key = _keys(data.info.task)
    for key, X, Y in ((train_key, data.X_train, data.Y_train),
                      (test_key, data.X_test, data.Y_test)):
        with np.errstate(all="ignore"):
            expected = _own_score(data.info.task, _own_forward(record, X), Y)
        assert summary[key][n - 1] == pytest.approx(expected, rel=1e-9, nan_ok=True), key
        assert math.isnan(summary[key][n - 2])


@pytest.mark.parametrize("dataset", ["spiral", "iris"])
def test_tied_outputs_are_not_all_correct(dataset):
    run = Run(normalize_config({"dataset": dataset, "init": "zeros", "steps": 2})).train()
    summary, data = run.summary(), run.data
    record = run.step_record(0)
    AL = _own_forward(record, data.X_train)
    assert np.ptp(AL, axis=0).max() == 0  # every output is 1/K: all tied
    assert summary["train_accuracy"][0] == pytest.approx(
        _own_score("multiclass", AL, data.Y_train), abs=1e-12)
    assert summary["train_accuracy"][0] < 0.5 and summary["test_accuracy"][0] < 0.5


@pytest.mark.parametrize(("hidden_layers", "small"), [([5, 4], True), ([128] * 5, False)],
                         ids=["small", "big"])
def test_queued_steps_are_named(hidden_layers, small):
    """A queued step is read by field name; a big θ's norms are taken when it is queued,
    so that no θ-sized array waits for the chunk."""
    run = Run(normalize_config({**BASE, "hidden_layers": hidden_layers, "steps": 3,
                                "optimizer": "adam"}))
    series = Series(run.config, run.layout, run.data)
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


def test_scores_on_demand_are_theta_t_at_every_step(trained):
    """Run.scores scores θ_t on the whole sets at any step: the summary's numbers where
    training scored them, and at the steps it skipped, θ_t replayed, as a recomputation
    from the records gives them; NaN for a test set that is not there."""
    _, run, _ = trained
    summary, task, data = run.summary(), run.data.info.task, run.data
    _, train_key, test_key = _keys(task)
    n = run.num_steps
    scores = run.scores(list(range(n - 1, -1, -1)))  # any order: answered in step order
    assert scores["steps"] == list(range(n))
    for t in range(n):
        record = run.step_record(t)
        for name, key, X, Y in (("train", train_key, data.X_train, data.Y_train),
                                ("test", test_key, data.X_test, data.Y_test)):
            value = scores[name][t]
            if not math.isnan(summary[key][t]):
                assert value == summary[key][t], (t, key)  # the very number served
            if Y.shape[1] == 0:
                assert math.isnan(value), (t, key)
                continue
            _assert_score(value, _own_score(task, _own_forward(record, X), Y), task, (t, key))
    # the steps replayed are those whose summary has no train score
    scored = [t for t in range(n) if not math.isnan(summary[train_key][t])]
    assert run.unscored(range(n)) == sorted(set(range(n)) - set(scored))


def test_scores_by_default_are_at_the_histograms_steps_and_kept():
    run, _ = trained_run("minibatch_remainder")
    spread = run.scores()
    assert spread["steps"] == run.histogram_steps(50)
    assert run.scores() is spread  # computed once
    assert spread == run.scores(spread["steps"])
    with pytest.raises(IndexError, match="not recorded"):
        run.scores([run.num_steps])


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
