"""engine.histograms: counts of Z, A, dZ and dW over fixed edges at replayed steps, each
tensor's exact range and percentiles, and the evenly spread steps of the default
histograms."""

import numpy as np
import pytest
from trained_runs import BASE

from engine.config import normalize_config
from engine.histograms import HISTOGRAM_TENSORS, PERCENTILES, spread_steps
from engine.options import options
from engine.run import Run

DROPOUT_ADAM = {"dataset": "circles", "hidden_layers": [6, 4], "steps": 12, "keep_prob": 0.8,
                "optimizer": "adam", "learning_rate": 0.01}


# matmul results may depend on the BLAS thread count: pinned as the server pins it
pytestmark = pytest.mark.usefixtures("pinned_blas")


def _tensors(layer):
    return {"Z": layer["activation_cache"]["Z"], "A": layer["A"], "dZ": layer["grads"]["dZ"],
            "dW": layer["grads"]["dW"]}


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
            for name, tensor in _tensors(run.step_record(t)["layers"][entry["l"] - 1]).items():
                counts = entry[name][k]
                assert len(counts) == len(h["edges"]) + 1
                assert sum(counts) == tensor.size
                np.testing.assert_array_equal(counts, np.histogram(tensor, bins=bins)[0])
    assert run.histograms(snapshots=7) is h  # computed once


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


def test_histogram_ranges_are_each_tensors_finite_extremes():
    run = Run(normalize_config(DROPOUT_ADAM)).train()
    h = run.histograms(snapshots=4)
    for entry in h["layers"]:
        for k, t in enumerate(h["steps"]):
            for name, tensor in _tensors(run.step_record(t)["layers"][entry["l"] - 1]).items():
                assert entry[f"{name}_range"][k] == [tensor.min(), tensor.max()], (t, name)


def _percentile(values, q):
    """q % of the way along the sorted values, linear between neighbours (the definition
    NumPy's default and TensorBoard's reading of a distribution share)."""
    ordered = sorted(values)
    position = q / 100 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


# a run whose gradients grow past the bins' last edge (±1000) for a few steps before Z
# goes non-finite at step 6
GROWS_PAST_THE_BINS = {"dataset": "sine", "hidden_layers": [16, 16], "learning_rate": 5.0,
                       "steps": 50}


@pytest.mark.parametrize("raw", [DROPOUT_ADAM, GROWS_PAST_THE_BINS], ids=["adam", "diverges"])
def test_histogram_percentiles_are_each_tensors_own(raw):
    run = Run(normalize_config(raw)).train()
    h = run.histograms(steps=list(range(run.num_steps)))
    assert h["percentiles"] == list(PERCENTILES)
    for entry in h["layers"]:
        for k, t in enumerate(h["steps"]):
            for name, tensor in _tensors(run.step_record(t)["layers"][entry["l"] - 1]).items():
                finite = tensor[np.isfinite(tensor)].ravel().tolist()
                assert entry[f"{name}_non_finite"][k] == tensor.size - len(finite)
                served = entry[f"{name}_percentiles"][k]
                if not finite:
                    assert all(np.isnan(v) for v in served)
                    continue
                expected = [_percentile(finite, q) for q in PERCENTILES]
                np.testing.assert_allclose(served, expected, rtol=1e-12, err_msg=f"{t} {name}")
                assert served[0] == min(finite) and served[-1] == max(finite)


def test_entries_that_are_not_finite_are_counted_apart():
    """The diverging run's last step: Z[1] holds entries that are ±inf or NaN, which no bin
    counts; the histograms say how many were left out."""
    run = Run(normalize_config(GROWS_PAST_THE_BINS)).train()
    last = run.num_steps - 1
    h = run.histograms(steps=[0, last])
    left_out = [entry[f"{name}_non_finite"] for entry in h["layers"] for name in HISTOGRAM_TENSORS]
    assert all(counts[0] == 0 for counts in left_out)
    assert any(counts[1] > 0 for counts in left_out)


def test_percentiles_reach_past_the_last_bin_where_the_bins_cannot():
    """A diverging run's gradients beyond ±1000 all fall in the last bin, which says nothing
    of where; the percentiles say it (the page once drew them flat at ±1000)."""
    run = Run(normalize_config(GROWS_PAST_THE_BINS)).train()
    h = run.histograms(steps=list(range(run.num_steps)))
    medians = [abs(p[4]) for entry in h["layers"] for p in entry["dW_percentiles"]
               if np.isfinite(p[4])]
    assert max(medians) > 1e6


def test_an_all_zero_tensor_has_the_range_zero():
    raw = {"dataset": "moons", "hidden_layers": [8, 8], "steps": 6, "init": "zeros",
           "learning_rate": 0.5}
    first = Run(normalize_config(raw)).train().histograms(snapshots=3)["layers"][0]
    assert all(r == [0.0, 0.0] for name in HISTOGRAM_TENSORS for r in first[f"{name}_range"])


@pytest.mark.parametrize(("num_steps", "snapshots", "interval", "steps"), [
    (30, 7, 1, [0, 5, 10, 14, 19, 24, 29]),
    (30, 7, 4, [0, 4, 8, 16, 20, 24, 29]),  # inner steps on checkpoints, the last kept
    (3, 50, 1, [0, 1, 2]),  # fewer steps than snapshots: each once
    (1, 50, 2, [0]),
])
def test_spread_steps(num_steps, snapshots, interval, steps):
    assert spread_steps(num_steps, snapshots, interval) == steps
