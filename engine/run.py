"""A recorded training run: summaries of every step, and any step's full record by replay.

Memory stays small: the run keeps θ and the optimizer state every K steps
(a checkpoint) plus a few floats per step and layer. `step_record(t)` replays
from the checkpoint before t; replay runs the very same `StepRunner.run`, so the
record is bit-identical to what training computed.
"""

import threading
from collections import OrderedDict

import numpy as np

from engine import cost, histograms, stats
from engine.batches import batch_size_at
from engine.datasets import load_dataset
from engine.initializers import initialize_parameters
from engine.layout import ParamLayout
from engine.optimizers import MOMENTS, init_state
from engine.records import divergence_point, step_record
from engine.series import Series
from engine.step import StepRunner
from engine.step_buffers import StepBuffers

INIT_STREAM = 1
RECENT_STEPS = 3  # replayed steps kept, for requests that come in a burst
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
MAX_REPLAY_SECONDS = 1.0  # seconds here are engine.cost's estimate, not measured
# the default histograms replay their steps once: evenly spread while that replays about
# this long at most, else placed on checkpoints (about one replayed step each); steps
# that a request names may replay as long, or one step each
HISTOGRAM_SECONDS = 5.0


def checkpoint_interval(steps, checkpoint_bytes, step_multiply_adds):
    """K such that steps/K checkpoints fit the budget, unless replaying K steps
    would take too long: then memory gives way to response time, up to the cap."""
    def spacing(budget):  # the interval at which the checkpoints fit this budget
        return -(-steps // max(int(budget // max(checkpoint_bytes, 1)), 1))

    by_memory = max(MIN_INTERVAL, spacing(CHECKPOINT_BUDGET))
    by_time = cost.steps_in(MAX_REPLAY_SECONDS, step_multiply_adds)
    return max(1, spacing(CHECKPOINT_CAP), min(by_memory, by_time))


def _frozen(theta, state):
    """A checkpoint: θ and the optimizer state, made read-only."""
    for array in (theta, *(v for v in state.values() if isinstance(v, np.ndarray))):
        array.flags.writeable = False
    return theta, state


class Run:
    """Train a normalized config once; then serve summaries and step records."""

    def __init__(self, config, data=None):
        """config: a normalized config; data: a Dataset to use instead of the config's
        (benchmarks train on random arrays of the course's image size this way)."""
        self.config = config
        self.data = data or load_dataset(config["dataset"], config["n_samples"],
                                         config["noise"], config["test_fraction"],
                                         config["seed"])
        # replays read the data and the checkpoints: nobody may change them in place
        for array in (self.data.X_train_ones, self.data.X_train, self.data.Y_train,
                      self.data.X_test_ones, self.data.X_test, self.data.Y_test):
            array.flags.writeable = False
        self.dims = [self.data.info.n_x, *config["hidden_layers"], self.data.info.n_y]
        self.L = len(self.dims) - 1
        self.layout = ParamLayout(self.dims)
        self._steps = StepRunner(config, self.data, self.layout)
        rng = np.random.default_rng([config["seed"], INIT_STREAM])
        self.theta0 = self.layout.flatten(initialize_parameters(self.dims, config["init"], rng))
        moments = 1 + len(MOMENTS[config["optimizer"]])
        self.m = config["batch_size"] or self.data.X_train.shape[1]  # examples a step
        # what replaying a step costs: its training, not its evaluation
        self.step_multiply_adds = cost.train_multiply_adds(self.dims, self.m)
        self.interval = checkpoint_interval(config["steps"], self.theta0.nbytes * moments,
                                            self.step_multiply_adds)
        self.status, self.num_steps, self.diverged = "pending", 0, None
        self._checkpoints = {}
        self._series = Series(config, self.layout, self.data)
        # steps summarized together, their Z and A in chunk buffers while training
        self.chunk, self._buffers = stats.chunk_size(self.layout, self.m), None
        self._lock = threading.Lock()
        self._histograms = None
        self._trained, self._when_trained = False, []  # callbacks waiting for the end
        # the page asks for several parts of one step at once: replay it once
        self._recent, self._replay_lock = OrderedDict(), threading.Lock()

    @property
    def progress(self):
        return 1.0 if self.status in ("done", "diverged") else self.num_steps / self.config["steps"]

    def info(self):
        return {"status": self.status, "progress": self.progress,
                "num_steps": self.num_steps, "diverged": self.diverged}

    def train(self, progress=None, should_stop=None, on_step=None):
        """Run every step, recording summaries; stops at the first non-finite value.

        progress(done, total) is called every few steps; on_step(t, result) sees
        every StepResult as training computed it (tests compare replays to it).
        """
        self.status = "running"
        if self.chunk > 1:
            self._buffers = StepBuffers(self.layout, self.chunk, self.m,
                                        self._series.stack_parameters)
        try:
            with np.errstate(all="ignore"):
                self._train_steps(progress, should_stop, on_step)
        except Exception:
            self.fail()  # the status says so before anyone waiting is woken
            raise
        finally:
            self._buffers = None
            self._end_training()
        return self

    def fail(self):
        """Mark the run failed and end its training, waking whoever waits for it (a
        training that raised, or a caller that could not train it at all)."""
        self.status = "failed"
        self._end_training()

    def when_trained(self, callback):
        """Call callback() once training has ended, however it ended: on the training
        thread, or at once if it has ended already. A server wakes a waiting request with
        it, rather than polling the status."""
        with self._lock:
            if not self._trained:
                self._when_trained.append(callback)
                return
        callback()

    def _end_training(self):
        with self._lock:
            self._trained, callbacks, self._when_trained = True, self._when_trained, []
        for callback in callbacks:
            callback()

    def _train_steps(self, progress, should_stop, on_step):
        theta, state = self.theta0, init_state(self.config["optimizer"], self.theta0)
        slot = None
        for t in range(self.config["steps"]):
            if t % self.interval == 0:
                # θ_t in a θ row of the chunk buffers will be overwritten: keep a copy
                self._checkpoints[t] = _frozen(theta if slot is None else theta.copy(), state)
            slot = self._slot(t, theta)
            if slot is None:
                result = self._steps.run(t, theta, state)
            else:
                result = self._steps.run(t, slot.theta, state, slot.buffers, slot.params)
            if on_step is not None:
                on_step(t, result)
            if self._diverged_in(self._record(t, result, slot)):
                return
            theta, state = result.update.new_theta, result.update.new_state
            self.num_steps = self._series.recorded
            if progress is not None and t % 25 == 24:
                progress(self.num_steps, self.config["steps"])
            if should_stop is not None and should_stop():
                self.status = "stopped"
                break
        if self._diverged_in(self._flush()):
            return
        self._score_last(self._series.recorded - 1)
        self.num_steps = self._series.recorded
        if self.status == "running":
            self.status = "done"

    def _slot(self, t, theta):
        """The chunk buffers' Slot for step t from θ_t, or None: a step summarized alone
        (without buffers, or a remainder batch narrower than the others) keeps its own
        arrays."""
        batch_size = self.config["batch_size"]
        if self._buffers is None or (batch_size is not None and batch_size_at(
                t, self.data.X_train.shape[1], batch_size) != self.m):
            return None
        return self._buffers.slot(self._series.queued, theta)

    def _record(self, t, result, slot):
        """Summarize step t, or queue it if its Z and A are in the chunk buffers (slot).
        Returns the summarized steps whose numbers are not all finite."""
        if slot is None:
            return self._flush() + self._series.record(t, result)
        self._series.queue(t, result)
        return self._flush() if self._series.queued == self.chunk else []

    def _flush(self):
        """Summarize the steps queued in the chunk buffers; the suspects, as _record."""
        T = self._series.queued
        return self._series.flush(self._buffers) if T else []

    def _score_last(self, t):
        """Score θ_t of the last recorded step on the whole sets, if the cadence did not
        (a run that stopped early)."""
        if t >= 0 and not self._series.evaluated(t):
            self._series.score_last(t, self._recent_replay(t).forward.theta)

    def _diverged_in(self, suspects):
        """Stop at the first suspect step that holds a non-finite tensor, if any.

        A statistic can overflow while every tensor is finite; such a step goes on.
        """
        for t in suspects:
            result = self._recent_replay(t)
            self._series.gradient_extremes(t, result.backward.grads, exact=True)  # NaN counts
            where = divergence_point(result, self.config)
            if where is not None:
                # readers in other threads see num_steps and diverged before the status
                self._series.truncate(t + 1)
                self._score_last(t)
                self._checkpoints = {s: c for s, c in self._checkpoints.items() if s <= t}
                self.num_steps = t + 1
                self.diverged = {"step": t, **where}
                self.status = "diverged"
                return True
        return False

    def replay(self, t):
        """The StepResult of step t, recomputed from the checkpoint before it."""
        if not 0 <= t < self.num_steps:
            raise IndexError(f"step {t} is not recorded; this run has {self.num_steps} steps")
        return self._recent_replay(t)

    def _recent_replay(self, t):
        """Replay step t once for a burst of requests; the lock also keeps the
        training thread and request threads from touching _recent at once."""
        with self._replay_lock:
            if t not in self._recent:
                self._recent[t] = self._replay(t)
                if len(self._recent) > RECENT_STEPS:
                    self._recent.popitem(last=False)
            self._recent.move_to_end(t)
            return self._recent[t]

    def _replay(self, t):
        """Replay up to step t from the latest state before it: a checkpoint, or a
        recently replayed step (stepping forward one iteration replays one step)."""
        start = t - t % self.interval
        theta, state = self._checkpoints[start]
        recent = [s for s in self._recent if start <= s < t]
        if recent:
            start = max(recent) + 1
            update = self._recent[start - 1].update
            theta, state = update.new_theta, update.new_state
        with np.errstate(all="ignore"):
            for s in range(start, t + 1):
                result = self._steps.run(s, theta, state)
                theta, state = result.update.new_theta, result.update.new_state
        return result

    def step_record(self, t, layers=None, fields=None, example=None):
        """The step record of step t (docs/api.md), tensors as 2-D float64 arrays;
        example: keep only this training example's column (it must be in the batch)."""
        return step_record(self.replay(t), self.config, t, layers, fields, example)

    def summary(self):
        """Per-step series: cost, accuracy or R², and per-layer statistics."""
        return self._series.as_dict(self.num_steps)

    def histograms(self, snapshots=50, steps=None):
        """Counts of Z, A, dZ and dW per layer at up to `snapshots` evenly spread steps
        (replayed once, then kept), or at the given steps (replayed on each call)."""
        if steps is not None:
            for t in steps:
                if not 0 <= t < self.num_steps:
                    raise IndexError(f"step {t} is not recorded; this run has "
                                     f"{self.num_steps} steps")
            return histograms.histograms(self, steps)
        with self._lock:
            if self._histograms is None:
                self._histograms = histograms.histograms(self, self.histogram_steps(snapshots))
            return self._histograms

    def histogram_steps(self, snapshots):
        """The default histograms' steps: up to `snapshots` spread evenly over the run if
        replaying them takes about HISTOGRAM_SECONDS at most, else moved to checkpoints."""
        even = histograms.spread_steps(self.num_steps, snapshots)
        if self.replay_seconds(even) <= HISTOGRAM_SECONDS:
            return even
        return histograms.spread_steps(self.num_steps, snapshots, self.interval)

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

    def replay_seconds(self, steps):
        """About how long replaying these steps takes, by engine.cost's estimate."""
        return cost.seconds(self.replays_for(steps) * self.step_multiply_adds)

    def max_replays(self, steps):
        """Training steps that replaying these named steps may recompute: as many as
        HISTOGRAM_SECONDS pays for, and never fewer than one for each step (a step on a
        checkpoint recomputes only itself)."""
        return max(len(set(steps)), cost.steps_in(HISTOGRAM_SECONDS, self.step_multiply_adds))

    def gradcheck(self, t, max_params=2000):
        """Numerical vs analytic gradients at step t, per layer (docs/api.md, "Gradcheck")."""
        from engine.gradcheck import gradient_check

        return gradient_check(self, t, max_params)

    def nbytes(self):
        """Approximate memory of this run now: data, checkpoints, series, the chunk buffers
        while training, recent replays."""
        buffers = self._buffers  # read once: training drops them meanwhile
        return (self._data_nbytes() + len(self._checkpoints) * self._checkpoint_nbytes()
                + self._series.nbytes() + (0 if buffers is None else buffers.nbytes)
                + len(self._recent) * self._replay_nbytes())

    def peak_nbytes(self):
        """The most this run will hold: its data, every checkpoint, the series with its
        training buffers (until it has trained), and RECENT_STEPS replays. What a cache
        counts for a run that trains or is read, so that neither grows it past its budget."""
        if self.status in ("done", "diverged", "stopped", "failed"):
            held = len(self._checkpoints) * self._checkpoint_nbytes() + self._series.nbytes()
        else:
            checkpoints = max(-(-self.config["steps"] // self.interval), len(self._checkpoints))
            buffers = 0 if self.chunk == 1 else StepBuffers.planned_nbytes(
                self.layout, self.chunk, self.m, self._series.stack_parameters)
            held = checkpoints * self._checkpoint_nbytes() + self._series.nbytes() + buffers
        replays = max(RECENT_STEPS, len(self._recent)) * self._replay_nbytes()
        return self._data_nbytes() + held + replays

    def _data_nbytes(self):
        # X_train and X_test are views of X_train_ones and X_test_ones
        return sum(a.nbytes for a in (self.data.X_train_ones, self.data.Y_train,
                                      self.data.X_test_ones, self.data.Y_test))

    def _checkpoint_nbytes(self):
        return self.theta0.nbytes * (1 + len(MOMENTS[self.config["optimizer"]]))

    def _replay_nbytes(self):
        """A replayed step: about four tensors of every layer's output size, and θ, dθ and
        the new θ."""
        return 8 * (4 * self.m * sum(self.dims[1:]) + 3 * self.layout.size)
