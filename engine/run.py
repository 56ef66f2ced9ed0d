"""A recorded training run: summaries of every step, and any step's full record by replay.

Memory stays small: the run keeps θ and the optimizer state every K steps
(a checkpoint) plus a few floats per step and layer. `step_record(t)` replays
from the checkpoint before t (engine.checkpoints); replay runs the very same
`StepRunner.run`, so the record is bit-identical to what training computed (but for a
diverged step's ReLU dZ: engine.fast_step.relu_derivative_into).
"""

import threading

import numpy as np

from engine import fast_step, histograms, mistakes, work_estimate
from engine.batches import batch_size_at, steps_per_epoch
from engine.checkpoints import Checkpoints, checkpoint_interval, recent_steps
from engine.datasets import load_dataset
from engine.initializers import initialize_parameters
from engine.layout import ParamLayout
from engine.optimizers import MOMENTS, init_state
from engine.records import divergence_point, step_record
from engine.series import Series
from engine.step import StepRunner
from engine.step_buffers import StepBuffers
from engine.step_scores import StepScores

INIT_STREAM = 1
# the default histograms replay their steps once: evenly spread while that replays about
# this long at most, else placed on checkpoints (about one replayed step each); steps
# that a request names may replay as long, or one step each
HISTOGRAM_SECONDS = 5.0
# the default scores of θ on the whole sets: at as many evenly spread steps as the
# histograms, replayed within the same budget (Run.scores)
SCORE_SNAPSHOTS = 50


def _read_only_examples(data):
    """The Dataset with the fast path's [X; 1] built once (data's X are views of them),
    none of them writable: replays read the data and the checkpoints, and nobody may
    change them in place."""
    data, with_ones = fast_step.examples_with_ones(data)
    for array in (*with_ones, data.X_train, data.Y_train, data.X_test, data.Y_test):
        array.flags.writeable = False
    return data, with_ones


def _epoch_shape(m_train, m):
    """The steps of an epoch of batches of m, and the width of its last batch where it is
    narrower than the others (else None)."""
    steps = steps_per_epoch(m_train, m)
    last = m_train - (steps - 1) * m
    return steps, None if last == m else last


class Run:
    """Train a normalized config once; then serve summaries and step records."""

    def __init__(self, config, data=None):
        """config: a normalized config; data: a Dataset to use instead of the config's
        (benchmarks train on random arrays of the course's image size this way)."""
        self.config = config
        self.data, self._with_ones = _read_only_examples(data or load_dataset(
            config["dataset"], config["n_samples"], config["noise"], config["test_fraction"],
            config["seed"]))
        self.dims = [self.data.info.n_x, *config["hidden_layers"], self.data.info.n_y]
        self.L = len(self.dims) - 1
        self.layout = ParamLayout(self.dims)
        self._steps = StepRunner(config, self.data, self.layout, self._with_ones.train)
        rng = np.random.default_rng([config["seed"], INIT_STREAM])
        self.theta0 = self.layout.flatten(initialize_parameters(self.dims, config["init"], rng))
        # examples a step (a batch as big as the training set, such as a benchmark's own
        # smaller data under a config's batch size, is the whole set)
        self.m = batch_size_at(0, self.data.X_train.shape[1], config["batch_size"])
        self.status, self.num_steps, self.diverged = "pending", 0, None
        self._plan_checkpoints()
        self._scores = StepScores(config, self.layout, self.data, self._with_ones)
        self._series = Series(config, self.layout, self.data, self._scores)
        # steps summarized together, written into buffers while training
        self.chunk, self._buffers = self._series.chunk, None
        self._epoch_steps, self._narrow_width = _epoch_shape(self.data.X_train.shape[1], self.m)
        self._lock = threading.Lock()
        self._histograms = self._spread_scores = None
        # the default scores have their own lock: the page asks for them with the
        # histograms, and need not wait for those replays
        self._scores_lock = threading.Lock()
        self._trained, self._when_trained = False, []  # callbacks waiting for the end

    def _plan_checkpoints(self):
        """What replaying a step costs (its training, not its evaluation), hence how many
        steps apart the checkpoints are, and how many replayed steps are kept."""
        config, moments = self.config, 1 + len(MOMENTS[self.config["optimizer"]])
        self.step_multiply_adds = work_estimate.train_multiply_adds(
            self.dims, self.m, work_estimate.backward_passes(config))
        self.interval = checkpoint_interval(config["steps"], self.theta0.nbytes * moments,
                                            self.step_multiply_adds)
        self._checkpoints = Checkpoints(self._steps, self.interval,
                                        recent_steps(self._replay_nbytes()))

    @property
    def progress(self):
        return 1.0 if self.status in ("done", "diverged") else self.num_steps / self.config["steps"]

    @property
    def bug_active(self):
        """Whether the config's bug changes any number of this run (engine.mistakes)."""
        return mistakes.bug_active(self.config)

    def info(self):
        return {"status": self.status, "progress": self.progress,
                "num_steps": self.num_steps, "diverged": self.diverged,
                "bug_active": self.bug_active}

    def train(self, progress=None, should_stop=None, on_step=None):
        """Run every step, recording summaries; stops at the first non-finite value.

        progress(done, total) is called every few steps; on_step(t, result) sees
        every StepResult as training computed it (tests compare replays to it).
        """
        self.status = "running"
        try:
            with np.errstate(all="ignore"):
                self._train_steps(progress, should_stop, on_step)
        except Exception:
            self.fail()  # the status says so before anyone waiting is woken
            raise
        finally:
            self._buffers = None
            self._series.end_training()
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
        buffers = self._buffers = StepBuffers(*self._buffers_plan())
        for t in range(self.config["steps"]):
            if t % self.interval == 0:
                # θ_t in a θ row of the chunk buffers will be overwritten: keep a copy
                self._checkpoints.keep(t, theta if t == 0 else theta.copy(), state)
            last = self._narrow_width is not None and \
                t % self._epoch_steps == self._epoch_steps - 1
            slot = buffers.slot(self._series.queued, theta, last)
            result = self._steps.run(t, slot.theta, state, slot.buffers, slot.params)
            if on_step is not None:
                on_step(t, result)
            self._series.queue(t, result, buffers, last)
            if self._series.queued == buffers.chunk and self._diverged_in(self._flush()):
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

    def _buffers_plan(self):
        """StepBuffers' arguments: the batches' width, and an epoch's last where narrower."""
        widths = (self.m,) if self._narrow_width is None else (self.m, self._narrow_width)
        return (self.layout, self.chunk, widths, self._series.stack_parameters,
                not self._series.output_dA_left_out)

    def _flush(self):
        """Summarize the queued steps; returns those whose numbers are not all finite."""
        if not self._series.queued:
            return []
        suspects = self._series.flush(self._buffers)
        # consecutive steps replay one step each
        self._series.measure_close(lambda t: self._checkpoints.replay(t).forward)
        return suspects

    def _score_last(self, t):
        """Score θ_t of the last recorded step on the whole sets, if the cadence did not
        (a run that stopped early)."""
        if t >= 0 and not self._scores.evaluated(t):
            self._scores.score_last(t, self._theta(t))

    def _theta(self, t):
        """θ_t, replayed from the checkpoint before it."""
        return self._checkpoints.replay(t).forward.theta

    def _diverged_in(self, suspects):
        """Stop at the first suspect step that holds a non-finite tensor, if any.

        A statistic can overflow while every tensor is finite; such a step goes on.
        """
        for t in suspects:
            result = self._checkpoints.replay(t)
            where = divergence_point(result, self.config)
            if where is not None:
                self._series.measure_gradients(t, result)
                # readers in other threads see num_steps and diverged before the status
                self._series.truncate(t + 1)
                self._score_last(t)
                self._checkpoints.forget_after(t)
                self.num_steps = t + 1
                self.diverged = {"step": t, **where}
                self.status = "diverged"
                return True
        return False

    def replay(self, t):
        """The StepResult of step t, recomputed from the checkpoint before it."""
        if not 0 <= t < self.num_steps:
            raise IndexError(f"step {t} is not recorded; this run has {self.num_steps} steps")
        return self._checkpoints.replay(t)

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
            return histograms.histograms(self, self._recorded(steps))
        with self._lock:
            if self._histograms is None:
                self._histograms = histograms.histograms(self, self.histogram_steps(snapshots))
            return self._histograms

    def scores(self, steps=None):
        """θ_t's scores on the whole training and test sets (accuracy, or R²): {"steps",
        "train", "test"}, lists in step order, of floats that may not be finite (a diverged
        θ; test is NaN without a test set). At the steps that training scored, they are the
        summary's; at the others, θ_t is replayed. steps: the steps to score, or None:
        SCORE_SNAPSHOTS evenly spread steps (placed as the histograms'), computed once,
        then kept: ask for them once the run has ended."""
        if steps is not None:
            return self._scores_at(self._recorded(steps))
        with self._scores_lock:
            if self._spread_scores is None:
                self._spread_scores = self._scores_at(self.histogram_steps(SCORE_SNAPSHOTS))
            return self._spread_scores

    def unscored(self, steps):
        """The steps among these whose whole-set scores training did not take: scores()
        replays them, and only them."""
        return [t for t in steps if not self._scores.measured(t)]

    def _scores_at(self, steps):
        ordered = sorted(set(steps))
        pairs = [self._scores.whole_sets(t, self._theta) for t in ordered]
        return {"steps": ordered, "train": [train for train, _ in pairs],
                "test": [test for _, test in pairs]}

    def _recorded(self, steps):
        """steps, each checked to be a recorded step (else IndexError)."""
        for t in steps:
            if not 0 <= t < self.num_steps:
                raise IndexError(f"step {t} is not recorded; this run has "
                                 f"{self.num_steps} steps")
        return steps

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
        return self._checkpoints.replays_for(steps)

    def replay_seconds(self, steps):
        """About how long replaying these steps takes, by engine.work_estimate's estimate."""
        return work_estimate.seconds(self.replays_for(steps) * self.step_multiply_adds)

    def max_replays(self, steps):
        """Training steps that replaying these named steps may recompute: as many as
        HISTOGRAM_SECONDS pays for, and never fewer than one for each step (a step on a
        checkpoint recomputes only itself)."""
        return max(len(set(steps)),
                   work_estimate.steps_in(HISTOGRAM_SECONDS, self.step_multiply_adds))

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
                + len(self._checkpoints.recent) * self._replay_nbytes())

    def peak_nbytes(self):
        """The most this run will hold: its data, every checkpoint, the series with its
        training buffers (until it has trained), and the replays it keeps. What a cache
        counts for a run that trains or is read, so that neither grows it past its budget."""
        if self.status in ("done", "diverged", "stopped", "failed"):
            held = len(self._checkpoints) * self._checkpoint_nbytes() + self._series.nbytes()
        else:
            checkpoints = max(-(-self.config["steps"] // self.interval), len(self._checkpoints))
            buffers = StepBuffers.planned_nbytes(*self._buffers_plan())
            held = checkpoints * self._checkpoint_nbytes() + self._series.nbytes() + buffers
        replays = self._checkpoints.keep_recent * self._replay_nbytes()
        return self._data_nbytes() + held + replays

    def _data_nbytes(self):
        # X_train and X_test are views of the [X; 1] of _with_ones; mini-batches are views
        # of an epoch's shuffled copy, if the set is small (step.SHUFFLED_COPY_BYTES)
        return (sum(a.nbytes for a in (*self._with_ones, self.data.Y_train, self.data.Y_test))
                + self._steps.shuffled_nbytes)

    def _checkpoint_nbytes(self):
        return self.theta0.nbytes * (1 + len(MOMENTS[self.config["optimizer"]]))

    def _replay_nbytes(self):
        """A replayed step: about four tensors of every layer's output size, and θ, dθ and
        the new θ; an active bug adds its mistaken dA and dZ and a second dθ (true_grads).
        A mini-batch's X and Y are views that keep their epoch's shuffled copy."""
        tensors, vectors = (6, 4) if self.bug_active else (4, 3)
        return (8 * (tensors * self.m * sum(self.dims[1:]) + vectors * self.layout.size)
                + self._steps.shuffled_nbytes)
