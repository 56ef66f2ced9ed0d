"""engine.step_scores: each step's batch score, and θ_t's train and test scores at the
cadence of engine.work_estimate.evaluation_interval, at the last step, and on demand (Run.scores),
as a recomputation from the step records gives them."""

import itertools
import math

import numpy as np
import pytest
from trained_runs import ACTIVATIONS, trained_run

from engine import work_estimate
from engine.config import normalize_config
from engine.run import Run

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


def test_the_cadence_is_the_work_estimates(trained):
    """Full batches score the whole sets every step; mini-batches every k steps, k from
    engine.work_estimate, and at the last step."""
    name, run, _ = trained
    data, batch_size = run.data, run.config["batch_size"]
    m_train, m_test = data.X_train.shape[1], data.X_test.shape[1]
    every = run.summary()["evaluated_every"]
    assert every == work_estimate.evaluation_interval(run.dims, batch_size or m_train,
                                                      m_train, m_test)
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


def test_whole_sets_replays_only_the_steps_training_did_not_score():
    """StepScores.whole_sets reads the series where training scored θ_t, and asks for θ_t
    (a replay) only elsewhere."""
    run, _ = trained_run("minibatch_remainder")
    scores = run._series.scores
    every, n = scores.evaluated_every, run.num_steps
    assert every > 1
    asked = []

    def theta_of(t):
        asked.append(t)
        return run.replay(t).forward.theta

    pairs = [scores.whole_sets(t, theta_of) for t in range(n)]
    assert asked == [t for t in range(n) if t % every and t != n - 1]
    for t in range(n):
        if t not in asked:
            assert pairs[t] == (scores.train[t], scores.test[t])
    assert not scores.measured(1)


def test_a_regression_summary_serves_r2_and_no_accuracy():
    run, _ = trained_run("sine_leaky")
    out = run._series.scores.as_dict(run.num_steps)
    assert [out[f"{name}_accuracy"] for name in ("batch", "train", "test")] == [None] * 3
    assert len(out["train_r2"]) == run.num_steps == len(out["batch_r2"])
    assert out["evaluated_every"] == 1
