"""engine.work_estimate: one estimate of what training costs, read by every budget.

Before issue 16 the estimate was written four times (app.config_limits, engine.run,
engine.gradcheck, app.admission). PINNED holds what each of those computed then, for a
table of configs: the numbers must not move now that they all read engine.work_estimate, but
for one change that the engine made: a mini-batch run scores θ on the whole training and test
sets every evaluation_interval steps (engine.step_scores), no longer every step, so its flops
count those scores only (MINI_BATCH_FLOPS).
"""

import math
from types import SimpleNamespace

import pytest

from app.admission import Admission
from app.config_limits import check_config
from app.settings import Settings
from engine import gradcheck, histograms, work_estimate
from engine.config import layer_dims, normalize_config
from engine.run import Run

BIG = [128] * 6
CONFIGS = {
    "default": {},
    "biggest_digits_adam": {"dataset": "digits", "hidden_layers": BIG, "optimizer": "adam",
                            "steps": 2000},
    "biggest_moons": {"dataset": "moons", "n_samples": 2000, "test_fraction": 0.0,
                      "hidden_layers": BIG, "steps": 2000},
    "digits_batch_1": {"dataset": "digits", "hidden_layers": BIG, "batch_size": 1,
                       "steps": 2000},
    "digits_minibatch_64": {"dataset": "digits", "hidden_layers": [64, 32, 16],
                            "batch_size": 64, "steps": 300},
    "breast_cancer_wide": {"dataset": "breast_cancer", "hidden_layers": [128], "steps": 2,
                           "test_fraction": 0.5},
    "logistic_iris": {"dataset": "iris", "hidden_layers": [], "steps": 10},
    "sine_deep": {"dataset": "sine", "hidden_layers": [32, 32, 32], "steps": 50},
}
# name: (run flops (config limits, fast lane), a replayed step's multiply-adds (run),
#        checkpoint interval (run), gradcheck's parameters per layer at max_params 2000,
#        Retry-After at 0 %, 50 % and 99 % of the run trained (admission),
#        default histograms on checkpoints (run)), computed by the code before issue 16
PINNED = {
    "default": (71808000.0, 84480, 2, [666, 666, 666], [1, 1, 1], False),
    "biggest_digits_adam": (2233986048000.0, 394265088, 34, [4, 4, 4, 4, 4, 52, 285],
                            [60, 60, 6], True),
    "biggest_moons": (2633728000000.0, 493824000, 10, [4, 4, 4, 4, 4, 209, 285],
                      [60, 60, 7], True),
    "digits_batch_1": (658022400000.0, 274176, 91, [285] * 7, [60, 60, 2], False),
    "digits_minibatch_64": (8134214400.0, 1308672, 2, [500, 500, 500, 500], [3, 2, 1], False),
    "breast_cancer_wide": (22601728.0, 3392640, 2, [1000, 1000], [1, 1, 1], False),
    "logistic_iris": (122400.0, 4320, 2, [2000], [1, 1, 1], False),
    "sine_deep": (287232000.0, 2027520, 2, [277, 500, 500, 500], [1, 1, 1], False),
}
# name: (flops, Retry-After) now. digits_batch_1 scores at steps 0 and 1999 only: the old
# 6.6e11 flops said 164 s (Retry-After 60), and it trains in about 0.3 s on one core
MINI_BATCH_FLOPS = {"digits_batch_1": (1753629696.0, [1, 1, 1]),
                    "digits_minibatch_64": (907686720.0, [1, 1, 1])}


@pytest.fixture(scope="module", params=list(CONFIGS))
def case(request):
    """(config, a Run of it as if trained, the pinned numbers), for each config."""
    config = check_config(CONFIGS[request.param], Settings())
    run = Run(config)
    run.num_steps = config["steps"]  # only the step arithmetic is used
    flops, *pinned = PINNED[request.param]
    if request.param in MINI_BATCH_FLOPS:
        flops, pinned[3] = MINI_BATCH_FLOPS[request.param]
    return config, run, (flops, *pinned)


def test_the_compute_budget_and_fast_lane_read_the_same_flops(case):
    config, _, (flops, *_) = case
    assert work_estimate.run_flops(config) == flops
    assert Admission().cost(config) == flops


def test_a_run_spaces_its_checkpoints_as_before(case):
    _, run, (_, step_multiply_adds, interval, *_) = case
    assert run.step_multiply_adds == step_multiply_adds
    assert run.interval == interval


def test_gradcheck_samples_as_many_parameters_as_before(case):
    _, run, (*_, budgets, _, _) = case
    assert gradcheck._per_layer_budget(run.dims, run.m, 2000) == budgets


def test_retry_after_is_as_before(case):
    config, _, (*_, retry_after, _) = case
    jobs = [[SimpleNamespace(run=SimpleNamespace(config=config,
                                                 num_steps=int(config["steps"] * done)))]
            for done in (0, 0.5, 0.99)]
    assert [Admission().retry_after(job) for job in jobs] == retry_after


def test_default_histograms_move_to_checkpoints_as_before(case):
    _, run, (*_, on_checkpoints) = case
    even = histograms.spread_steps(run.num_steps, 50)
    assert (run.histogram_steps(50) != even) == on_checkpoints


def test_the_config_estimate_trains_on_the_batch_the_run_takes(case):
    """run_multiply_adds(config) counts from the config what Run counts from its data:
    fixed-size datasets and the train/test split included."""
    config, run, _ = case
    m_train, m_test = run.data.X_train.shape[1], run.data.X_test.shape[1]
    every = work_estimate.evaluation_interval(run.dims, run.m, m_train, m_test)
    scored = work_estimate.scored_steps(config["steps"], every)
    assert run.dims == layer_dims(config)
    assert work_estimate.run_multiply_adds(config) == (
        config["steps"] * run.step_multiply_adds
        + scored * work_estimate.forward_multiply_adds(run.dims, m_train + m_test))


@pytest.mark.parametrize("raw", [
    {"steps": 30},
    {"dataset": "digits", "hidden_layers": [16], "batch_size": 64, "steps": 61},
    {"dataset": "digits", "hidden_layers": [16], "batch_size": 8, "steps": 200},
    {"dataset": "sine", "n_samples": 100, "batch_size": 10, "steps": 45},
], ids=["full_batch", "minibatch", "small_batches", "regression"])
def test_the_estimate_counts_the_steps_the_run_scores(raw):
    config = normalize_config(raw)
    summary = Run(config).train().summary()
    scores = summary["test_accuracy"] or summary["test_r2"]
    scored = sum(not math.isnan(score) for score in scores)  # NaN: not scored
    assert scored == work_estimate.scored_steps(config["steps"], summary["evaluated_every"])


@pytest.mark.parametrize(("dims", "m", "first", "forward"), [
    ([2, 8, 8, 1], 10, 1, 10 * (16 + 64 + 8)),
    ([2, 8, 8, 1], 10, 2, 10 * (64 + 8)),
    ([2, 8, 8, 1], 10, 3, 10 * 8),
    ([2, 8, 8, 1], 10, 4, 0),  # past the output layer: nothing left
    ([4, 3], 1, 1, 12),  # logistic regression
])
def test_forward_counts_the_products_of_the_layers_from_first(dims, m, first, forward):
    assert work_estimate.forward_multiply_adds(dims, m, first) == forward


@pytest.mark.parametrize(("l", "work"), [
    (1, 10 * 8 + 10 * (64 + 8)),  # Z[1]'s 8 x 10 activations again, then layers 2 and 3
    (2, 10 * 8 + 10 * 8),
    (3, 10 * 1),  # the output layer: its activation alone
])
def test_a_perturbed_cost_retakes_layer_ls_activation_and_runs_the_layers_above(l, work):
    assert work_estimate.perturbed_cost_multiply_adds([2, 8, 8, 1], 10, l) == work


@pytest.mark.parametrize(("dims", "m"), [([2, 8, 8, 1], 10), ([64, 128, 10], 1)])
def test_training_is_a_forward_and_two_backward_products(dims, m):
    assert work_estimate.train_multiply_adds(dims, m) == \
        3 * work_estimate.forward_multiply_adds(dims, m)


def test_flops_are_two_per_multiply_add():
    config = normalize_config({})
    assert work_estimate.run_flops(config) == 2 * work_estimate.run_multiply_adds(config)
    assert work_estimate.run_flops(config) == config["steps"] * work_estimate.step_flops(config)
    rate = work_estimate.MULTIPLY_ADDS_PER_SECOND
    assert work_estimate.seconds_of_flops(2 * rate) == work_estimate.seconds(rate) == 1.0


@pytest.mark.parametrize(("seconds", "per_step", "steps"), [
    (1.0, 2e9, 1), (1.0, 2e9 + 1, 0), (1.0, 1e9, 2), (5.0, 0, 10**10), (0.0, 1e6, 0)])
def test_steps_in_counts_whole_steps_that_fit(seconds, per_step, steps):
    assert work_estimate.steps_in(seconds, per_step) == steps


@pytest.mark.parametrize(("steps", "every", "scored"), [
    (10, 1, 10), (10, 3, 4), (11, 3, 4 + 1), (9, 4, 3), (10, 100, 2), (1, 5, 1)])
def test_scored_steps_are_every_kth_and_the_last(steps, every, scored):
    assert work_estimate.scored_steps(steps, every) == scored


def test_budgets_in_seconds_are_budgets_of_work():
    assert gradcheck.BUDGET == work_estimate.multiply_adds_in(gradcheck.CHECK_SECONDS) == 1.5e9
