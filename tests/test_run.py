"""Tests for engine.run: replay exactness, determinism, memory, divergence and the replays
of a recorded run's histograms (a step's numbers: tests/test_step.py; its record's layout:
tests/test_records.py; its gradient check: tests/test_gradcheck.py; its summary:
tests/test_series.py; histograms: tests/test_histograms.py)."""

import itertools
import json
import math
import subprocess
import sys
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from trained_runs import (
    ALL_CONFIGS,
    BASE,
    CONFIGS,
    assert_same_bytes,
    record_tensors,
)

from engine import checkpoints, histograms, work_estimate
from engine import run as run_module
from engine.config import normalize_config
from engine.datasets import load_dataset
from engine.optimizers import MOMENTS
from engine.run import Run

REPO = Path(__file__).resolve().parents[1]
# sine through three wide uniform layers at lr 10: the mse cost overflows at step 4
DIVERGES_AT_COST = {"dataset": "sine", "learning_rate": 10, "steps": 50,
                    "hidden_layers": [32, 32, 32], "init": "uniform"}
# moons at lr 10 through wide relu layers: Z[2] overflows while the logit cost stays finite
DIVERGES_IN_Z = {"dataset": "moons", "learning_rate": 10, "steps": 50,
                 "hidden_layers": [64, 64, 64, 64], "init": "uniform"}


# matmul results may depend on the BLAS thread count: pinned as the server pins it
pytestmark = pytest.mark.usefixtures("pinned_blas")


# ---------------------------------------------------------------- replay exactness


def test_replay_is_byte_identical_to_training(trained):
    name, run, originals = trained
    assert run.status == "done" and run.num_steps == ALL_CONFIGS[name]["steps"]
    assert sorted(originals) == list(range(run.num_steps))
    # a scrambled order: no step may depend on which replay ran before it
    order = np.random.default_rng(0).permutation(run.num_steps).tolist()
    for t in order:
        replayed, original = run.step_record(t), originals[t]["record"]
        assert replayed["cost"] == original["cost"] and replayed["epoch"] == original["epoch"]
        assert replayed["batch"]["indices"] == original["batch"]["indices"]
        got, want = record_tensors(replayed), record_tensors(original)
        assert [p for p, _ in got] == [p for p, _ in want]
        for (path, a), (_, b) in zip(got, want, strict=True):
            assert_same_bytes(a, b, (t, *path))


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
    for (path, a), (_, b) in zip(record_tensors(after), record_tensors(before), strict=True):
        assert_same_bytes(a, b, path)


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


# ---------------------------------------------------------------- memory and the end of training


def test_a_run_holds_its_examples_once_under_its_row_of_ones():
    """The fast path's [X; 1] is the run's (engine.fast_step.examples_with_ones): its
    Dataset's X_train and X_test are views of them, read-only, and equal to the course's."""
    cfg = normalize_config({**BASE, "steps": 2})
    run, data = Run(cfg), load_dataset(cfg["dataset"], cfg["n_samples"], cfg["noise"],
                                       cfg["test_fraction"], cfg["seed"])
    for X, X_ones, course in ((run.data.X_train, run._with_ones.train, data.X_train),
                              (run.data.X_test, run._with_ones.test, data.X_test)):
        assert X.base is X_ones and not X_ones.flags.writeable
        np.testing.assert_array_equal(X_ones[-1], 1.0)
        assert_same_bytes(np.ascontiguousarray(X), course, "X")



def test_a_batch_as_big_as_its_data_trains_the_whole_set():
    """A Run handed data with fewer training examples than the config's batch size (a
    benchmark's own data) trains on the whole set each step, as a full batch."""
    cfg = normalize_config({"dataset": "moons", "n_samples": 400, "batch_size": 300,
                            "steps": 5})
    data = load_dataset("moons", 100, None, 0.2, 1)  # 80 training examples
    run = Run(cfg, data).train()
    assert run.status == "done" and run.m == 80 and run._narrow_width is None
    summary = run.summary()
    assert summary["epoch"] == [0, 1, 2, 3, 4]
    assert run.step_record(3)["batch"]["indices"] == list(range(80))
    assert all(math.isfinite(v) for v in summary["batch_accuracy"])
    # the same numbers as the config without a batch size, scores included (NaN where
    # a statistic does not apply: compared as text, NaN equals NaN)
    full = Run({**cfg, "batch_size": None}, data).train().summary()
    assert json.dumps(summary) == json.dumps(full)


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
    assert run.chunk > 1 and peak > 2**20  # the buffers were there
    # nbytes() counts the data too: Y, allocated before, and the run's own [X; 1]; it
    # leaves out a few small arrays (class labels, engine.stats' shared vector of ones,
    # 0.35 MB here)
    assert held < run.nbytes() + 2**19
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
    assert len(run._checkpoints.recent) == checkpoints.RECENT_STEPS
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


def test_a_training_that_raises_fails_the_run_before_waking_its_waiters():
    """Run.fail: a request woken at the end reads "failed", not a run still "running"."""
    run = Run(normalize_config({**BASE, "steps": 30}))
    calls = []
    run.when_trained(lambda: calls.append(run.status))

    def engine_bug(t, result):
        raise RuntimeError("engine bug")

    with pytest.raises(RuntimeError, match="engine bug"):
        run.train(on_step=engine_bug)
    run.when_trained(lambda: calls.append("at once"))
    assert run.status == "failed" and calls == ["failed", "at once"]


def test_fail_ends_a_run_that_never_trained_once():
    run = Run(normalize_config(BASE))
    calls = []
    run.when_trained(lambda: calls.append(run.status))
    run.fail()
    run.fail()
    assert run.status == "failed" and calls == ["failed"]


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


@pytest.mark.parametrize("raw", [DIVERGES_AT_COST, {
    "dataset": "sine", "n_samples": 200, "hidden_layers": [16, 16], "learning_rate": 2.0,
    "steps": 100}], ids=["at_cost", "divergence_lesson"])
def test_a_diverged_steps_relu_gradients_are_the_courses(raw):
    """At the diverged step, dA[l] holds infinities. Each ReLU layer's dZ is then the
    course's relu_backward (0 where Z ≤ 0, even where dA is ±inf; autograd gives 0 too),
    not the mask's inf·0 = NaN, and the layer below reads that dZ: dA[l-1] = W[l]ᵀ dZ[l]."""
    run = Run(normalize_config(raw)).train()
    layers = run.step_record(run.diverged["step"])["layers"]
    zeroed_infinities = 0
    for e in layers[:-1]:
        dA, Z, dZ = e["grads"]["dA"], e["activation_cache"]["Z"], e["grads"]["dZ"]
        course = dA.copy()
        course[Z <= 0] = 0  # the course's relu_backward
        np.testing.assert_array_equal(dZ, course)
        zeroed_infinities += int((~np.isfinite(dA) & (Z <= 0)).sum())
    for below, e in itertools.pairwise(layers):
        W, dZ = e["linear_cache"]["W"], e["grads"]["dZ"]
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(below["grads"]["dA"], W.T @ dZ, rtol=1e-12)
    assert zeroed_infinities > 0  # the case this test is about


def test_no_divergence_in_finite_runs(trained):
    _, run, _ = trained
    assert run.diverged is None and run.status == "done" and run.progress == 1.0


# ---------------------------------------------------------------- histograms


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
        assert steps == histograms.spread_steps(run.num_steps, 50)
    assert run.replay_seconds(steps) <= run_module.HISTOGRAM_SECONDS or on_checkpoints


def test_replays_for_counts_steps_recomputed_in_order():
    run = Run(normalize_config({**BASE, "steps": 30}))
    assert run.interval == 2
    # 13 from 12; 14 from its checkpoint; 15 continues from 14; 29 from 28
    assert run.replays_for([29, 13, 14, 15]) == 2 + 1 + 1 + 2


# (config, named steps as (how many, offset past a checkpoint), allowed). Before issue 16
# a request could recompute 200 steps whatever they cost: 10 steps of the biggest run
# 19 past a checkpoint (about 39 s by engine.work_estimate) passed, and 50 steps 90 past one of a
# run of cheap steps (under a second) did not
NAMED_STEPS = [
    ({**BASE, "steps": 30}, (15, 1), True),
    ({"dataset": "digits", "hidden_layers": [128] * 6, "optimizer": "adam", "steps": 2000},
     (10, 19), False),
    ({"dataset": "digits", "hidden_layers": [128] * 6, "optimizer": "adam", "steps": 2000},
     (50, 0), True),
    ({"dataset": "digits", "hidden_layers": [128] * 6, "batch_size": 1, "steps": 2000},
     (20, 90), True),
]


@pytest.mark.parametrize(("raw", "named", "allowed"), NAMED_STEPS,
                         ids=["small", "biggest_far", "biggest_on_checkpoints", "cheap_far"])
def test_named_steps_replay_about_histogram_seconds_or_one_step_each(raw, named, allowed):
    run = Run(normalize_config(raw))
    count, offset = named
    steps = [k * run.interval + offset for k in range(count)]
    most = run.max_replays(steps)
    assert (run.replays_for(steps) <= most) == allowed
    assert most >= len(steps)  # steps on checkpoints are always allowed
    if most > len(steps):  # the budget, by the engine's one estimate
        assert work_estimate.seconds(most * run.step_multiply_adds) <= run_module.HISTOGRAM_SECONDS


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
    ({"dataset": "digits", "hidden_layers": [32, 16], "steps": 1000}, checkpoints.MIN_INTERVAL),
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
    assert count * run.theta0.nbytes * moments <= checkpoints.CHECKPOINT_CAP
    if interval is not None:
        assert run.interval == interval


@pytest.mark.parametrize("bug", [None, "activation_cache_holds_A"])
def test_the_replays_a_run_keeps_are_counted(bug):
    """A run counts the replayed steps it keeps at about what they hold: a bug run's replay
    holds the mistaken gradients beside the true ones (issue 17), half as much again."""
    run = Run(normalize_config({"dataset": "moons", "n_samples": 2000, "hidden_layers": [32, 32],
                                "activations": ["tanh", "tanh", "sigmoid"], "steps": 40,
                                "bug": bug}))
    run.train()
    tracemalloc.start()
    try:
        for t in (1, 13, 25, 37):  # one more than RECENT_STEPS, in different intervals
            run.step_record(t)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held <= 1.1 * checkpoints.RECENT_STEPS * run._replay_nbytes()
