"""A run's checkpoints and replays: θ and the optimizer state every `interval` steps, and
any step recomputed from the checkpoint before it.

A replay runs the StepRunner that trained the run, the very same `StepRunner.run`, so a
replayed step is bit-identical to what training computed (but for a diverged step's ReLU
dZ: engine.fast_step.relu_derivative_into).
"""

import threading
from collections import OrderedDict

import numpy as np

from engine import work_estimate

RECENT_STEPS = 3  # replayed steps kept, for requests that come in a burst
# ... fewer where they would hold more than this (one at least): a replay of the biggest
# valid runs holds about 47 MB, and two such runs, each with two, then fit the default
# cache of 512 MB (app.settings) at once, as a teacher comparing them needs
RECENT_BYTES = 100 * 2**20
# a checkpoint every MIN_INTERVAL steps while they fit CHECKPOINT_BUDGET bytes; sparser
# beyond, but never so sparse that a replay needs more than about MAX_REPLAY_SECONDS,
# unless the checkpoints would then take more than CHECKPOINT_CAP: a run's memory is
# bounded first (the biggest valid runs, 6×128 units on digits or 2,000 moons with adam,
# would otherwise keep about 850 MB), and a fetch of such a run may take up to about 1.5 s.
# A fetch replays (MIN_INTERVAL - 1) / 2 extra steps on average, which costs less
# than building the record, while training copies and freezes half as many θs
CHECKPOINT_BUDGET = 16 * 2**20
CHECKPOINT_CAP = 128 * 2**20
MIN_INTERVAL = 2
MAX_REPLAY_SECONDS = 1.0  # seconds here are engine.work_estimate's estimate, not measured


def checkpoint_interval(steps, checkpoint_bytes, step_multiply_adds):
    """K such that steps/K checkpoints fit the budget, unless replaying K steps
    would take too long: then memory gives way to response time, up to the cap."""
    def spacing(budget):  # the interval at which the checkpoints fit this budget
        return -(-steps // max(int(budget // max(checkpoint_bytes, 1)), 1))

    by_memory = max(MIN_INTERVAL, spacing(CHECKPOINT_BUDGET))
    by_time = work_estimate.steps_in(MAX_REPLAY_SECONDS, step_multiply_adds)
    return max(1, spacing(CHECKPOINT_CAP), min(by_memory, by_time))


def recent_steps(replay_bytes):
    """Replayed steps a run keeps: RECENT_STEPS, as many as fit RECENT_BYTES, 1 at least."""
    return int(max(1, min(RECENT_STEPS, RECENT_BYTES // max(replay_bytes, 1))))


def frozen(theta, state):
    """A checkpoint: θ and the optimizer state, made read-only."""
    for array in (theta, *(v for v in state.values() if isinstance(v, np.ndarray))):
        array.flags.writeable = False
    return theta, state


class Checkpoints:
    """The checkpoints of one run, every `interval` steps, and the steps replayed from
    them by `steps` (the run's engine.step.StepRunner), the last `keep_recent` kept."""

    def __init__(self, steps, interval, keep_recent=RECENT_STEPS):
        self.steps, self.interval, self.keep_recent = steps, interval, keep_recent
        self.saved = {}  # t -> (θ_t, optimizer state before step t), read-only
        # the page asks for several parts of one step at once: replay it once
        self.recent, self._lock = OrderedDict(), threading.Lock()

    def __len__(self):
        return len(self.saved)

    def keep(self, t, theta, state):
        """Keep θ_t and the optimizer state as step t's checkpoint, read-only from now on
        (the caller hands over arrays that nothing writes into any more)."""
        self.saved[t] = frozen(theta, state)

    def forget_after(self, t):
        """Drop the checkpoints of the steps after t (a run that diverged at t)."""
        self.saved = {s: c for s, c in self.saved.items() if s <= t}

    def replay(self, t):
        """The StepResult of step t, replayed once for a burst of requests; the lock also
        keeps the training thread and request threads from touching `recent` at once."""
        with self._lock:
            if t not in self.recent:
                self.recent[t] = self._replay(t)
                if len(self.recent) > self.keep_recent:
                    self.recent.popitem(last=False)
            self.recent.move_to_end(t)
            return self.recent[t]

    def _replay(self, t):
        """Replay up to step t from the latest state before it: a checkpoint, or a
        recently replayed step (stepping forward one iteration replays one step)."""
        start = t - t % self.interval
        theta, state = self.saved[start]
        recent = [s for s in self.recent if start <= s < t]
        if recent:
            start = max(recent) + 1
            update = self.recent[start - 1].update
            theta, state = update.new_theta, update.new_state
        with np.errstate(all="ignore"):
            for s in range(start, t + 1):
                result = self.steps.run(s, theta, state)
                theta, state = result.update.new_theta, result.update.new_state
        return result

    def replays_for(self, steps):
        """Training steps that replaying these steps, in order, recomputes: each from its
        checkpoint, or from the step before it if that one is in the same interval."""
        count, previous = 0, None
        for t in sorted(steps):
            start = t - t % self.interval
            if previous is not None and start <= previous < t:
                start = previous + 1
            count, previous = count + t - start + 1, t
        return count
