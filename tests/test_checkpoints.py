"""engine.checkpoints: the spacing of a run's checkpoints, read-only checkpoints, and steps
replayed from them, bit-identical to training, a burst of requests replaying a step once."""

import numpy as np
import pytest
from trained_runs import BASE, assert_same_bytes

from engine import checkpoints, work_estimate
from engine.checkpoints import (
    CHECKPOINT_BUDGET,
    CHECKPOINT_CAP,
    MIN_INTERVAL,
    RECENT_BYTES,
    RECENT_STEPS,
    Checkpoints,
    checkpoint_interval,
    frozen,
    recent_steps,
)
from engine.config import normalize_config
from engine.optimizers import init_state
from engine.run import Run

pytestmark = pytest.mark.usefixtures("pinned_blas")

MB = 2**20
CHEAP = 1000  # multiply-adds of a step that replays in no time
# a step of which 10 replay in MAX_REPLAY_SECONDS, by engine.work_estimate's estimate
SLOW = int(work_estimate.multiply_adds_in(checkpoints.MAX_REPLAY_SECONDS) / 10)


@pytest.mark.parametrize(("steps", "checkpoint_bytes", "multiply_adds", "expected"), [
    # small θ: every MIN_INTERVAL steps
    (1000, 1000, CHEAP, MIN_INTERVAL),
    # 100 checkpoints of 1 MB fit the 16 MB budget every 7 steps
    (100, MB, CHEAP, -(-100 // (CHECKPOINT_BUDGET // MB))),
    # replaying 7 slow steps is quick enough: memory decides
    (100, MB, SLOW, 7),
    # 1,000 of 1 MB: the budget says every 63, the replay time every 10
    (1000, MB, SLOW, 10),
    # 1,000 of 8 MB: every 10 would hold 800 MB; the cap says every 63
    (1000, 8 * MB, SLOW, -(-1000 // (CHECKPOINT_CAP // (8 * MB)))),
], ids=["small", "memory", "memory_not_time", "time", "cap"])
def test_checkpoint_interval_fits_the_budget_then_the_replay_time_then_the_cap(
        steps, checkpoint_bytes, multiply_adds, expected):
    assert checkpoint_interval(steps, checkpoint_bytes, multiply_adds) == expected


def test_a_checkpoint_is_read_only():
    theta, state = frozen(np.zeros(3), {"v": np.zeros(3), "t": 4})
    with pytest.raises(ValueError, match="read-only"):
        theta[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        state["v"][0] = 1.0


def _checkpointed(raw, interval=3, keep_recent=RECENT_STEPS):
    """A run's StepRunner, and Checkpoints every `interval` of its training steps trained
    here without a Run; and each step's StepResult as training computed it."""
    run = Run(normalize_config(raw))
    steps, kept = run._steps, Checkpoints(run._steps, interval, keep_recent)
    theta, state, results = run.theta0.copy(), init_state(run.config["optimizer"],
                                                          run.theta0), []
    for t in range(run.config["steps"]):
        if t % interval == 0:
            kept.keep(t, theta, state)
        results.append(steps.run(t, theta, state))
        theta, state = results[-1].update.new_theta, results[-1].update.new_state
    return kept, results


@pytest.mark.parametrize("raw", [
    {**BASE, "steps": 12},
    {"dataset": "digits", "hidden_layers": [16], "optimizer": "adam", "batch_size": 64,
     "steps": 12},
], ids=["moons", "digits_adam_batches"])
def test_a_replay_is_bit_identical_to_training_in_any_order(raw):
    kept, results = _checkpointed(raw)
    for t in (11, 4, 5, 6, 0, 10):  # from checkpoints, and from the step replayed before
        replay = kept.replay(t)
        assert replay.forward.cost == results[t].forward.cost
        assert_same_bytes(replay.update.new_theta, results[t].update.new_theta, t)
        assert_same_bytes(replay.backward.g, results[t].backward.g, t)


def test_a_burst_replays_a_step_once_and_keeps_the_recent_few():
    kept, _ = _checkpointed({**BASE, "steps": 12})
    first = kept.replay(5)
    assert kept.replay(5) is first  # the page's parallel requests of one step
    for t in (1, 7, 9, 11):
        kept.replay(t)
    assert list(kept.recent) == [7, 9, 11][-RECENT_STEPS:]


def test_a_run_with_big_replays_keeps_fewer_and_still_replays_exactly():
    kept, results = _checkpointed({**BASE, "steps": 12}, keep_recent=1)
    for t in (5, 6, 2):
        replay = kept.replay(t)
        assert_same_bytes(replay.update.new_theta, results[t].update.new_theta, t)
    assert list(kept.recent) == [2]


@pytest.mark.parametrize(("replay_bytes", "expected"), [
    (0, RECENT_STEPS),
    (MB, RECENT_STEPS),
    (RECENT_BYTES // RECENT_STEPS, RECENT_STEPS),
    (RECENT_BYTES // RECENT_STEPS + 1, 2),
    (RECENT_BYTES // 2, 2),
    (RECENT_BYTES // 2 + 1, 1),
    (10 * RECENT_BYTES, 1),  # one at least: the step asked for
])
def test_replays_kept_fit_their_bytes(replay_bytes, expected):
    assert recent_steps(replay_bytes) == expected


def test_forget_after_drops_the_checkpoints_past_a_step():
    kept, _ = _checkpointed({**BASE, "steps": 12})
    assert sorted(kept.saved) == [0, 3, 6, 9] and len(kept) == 4
    kept.forget_after(6)
    assert sorted(kept.saved) == [0, 3, 6]


@pytest.mark.parametrize(("steps", "expected"), [
    ([0], 1),  # on a checkpoint: itself
    ([5], 3),  # 3, 4, 5
    ([5, 4], 3),  # in order: 3, 4, then 5 from 4
    ([29, 13, 14, 15], 2 + 1 + 1 + 3),  # 12-13; 14 from 13; 15 itself; 27-29
], ids=["checkpoint", "past", "in_order", "spread"])
def test_replays_for_counts_the_steps_recomputed_in_order(steps, expected):
    kept = Checkpoints(None, 3)
    assert kept.replays_for(steps) == expected
