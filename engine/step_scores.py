"""A run's scores, one per step: accuracy (or R² for regression) on the step's own batch,
and θ_t's on the whole training and test sets.

Every step scores its own batch, from the output A[L] it computed (with dropout's masks,
if any). A full batch without dropout is the training set: its batch score is the train
score. Otherwise θ_t is scored on the whole training and test sets every
`evaluated_every` steps and at the last one (engine.work_estimate.evaluation_interval), so that a
mini-batch run costs about what a full-batch one does; the other steps stay NaN, and
engine.run scores θ_t of any of them on demand (Run.scores), replayed.
"""

import numpy as np

from engine import work_estimate
from engine.batches import is_full_batch
from engine.scores import ClassLabels, SetScorer, score

NAMES = ("batch", "train", "test")


class StepScores:
    """The scores of a run of a normalized config, its ParamLayout and Dataset; with_ones:
    the Dataset's fast_step.ExamplesWithOnes."""

    def __init__(self, cfg, layout, data, with_ones):
        steps, self.task = cfg["steps"], data.info.task
        self.batch, self.train, self.test = (np.full(steps, np.nan) for _ in NAMES)
        m_train, m_test = data.X_train.shape[1], data.X_test.shape[1]
        self.full_batch = is_full_batch(m_train, cfg["batch_size"])
        self.evaluated_every = work_estimate.evaluation_interval(
            layout.dims, cfg["batch_size"] or m_train, m_train, m_test)
        self._last = steps - 1
        self._scored_last = None  # a run that stopped early: its last step, scored then
        # the step's own AL is the train prediction when it saw all data without dropout
        self.own_AL = self.full_batch and cfg["keep_prob"] == 1.0
        acts = cfg["activations"]
        self._train = SetScorer(self.task, layout, acts, with_ones.train, data.Y_train)
        self._test = SetScorer(self.task, layout, acts, with_ones.test, data.Y_test) \
            if m_test else None
        self._train_classes = data.train_labels

    def evaluated(self, t):
        """Whether training scores step t's θ on the whole training and test sets."""
        return t % self.evaluated_every == 0 or t == self._last

    def measured(self, t):
        """Whether the train and test series hold θ_t's scores on the whole sets."""
        return self.evaluated(t) or t == self._scored_last

    def whole_sets(self, t, theta_of):
        """(train, test) of step t: the series' where measured, else θ_t's, scored now;
        theta_of(t): θ_t, replayed.  test is NaN without a test set."""
        if self.measured(t):
            return float(self.train[t]), float(self.test[t])
        theta = theta_of(t)
        with np.errstate(all="ignore"):
            train = self._train([theta])[0]
            test = np.nan if self._test is None else self._test([theta])[0]
        return float(train), float(test)

    def of_batch(self, AL, Y, batches):
        """The scores of steps on their own batches: outputs AL (T, n_y, m), targets Y
        (the training set's (n_y, m), or each step's batch's, (T, n_y, m)), examples
        batches (T, m), or None: the whole training set."""
        return score(self.task, AL, Y, self._labels(Y, batches))

    def fill(self, span, thetas, ALs, Y, batches=None):
        """The scores of a span of consecutive steps (a slice): each on its batch (see
        of_batch); and on the whole sets, of θ_t (thetas: (T, P)), at the steps
        evaluated."""
        self.batch[span] = self.of_batch(ALs, Y, batches)
        if self.own_AL:
            self.train[span] = self.batch[span]
        due = [t for t in range(span.start, span.stop) if self.evaluated(t)]
        if due:
            self._whole_sets(due, [thetas[t - span.start] for t in due])

    def _labels(self, Y, batches):
        """ClassLabels of the targets Y of steps whose examples are batches, or None: the
        classes of the training set's examples are known, which argmax need not find."""
        if batches is None:
            return self._train.labels
        classes = self._train_classes
        return None if classes is None or self.task == "regression" else \
            ClassLabels(Y, classes[batches])

    def _whole_sets(self, steps, thetas):
        """Scores of θ_t on the whole training and test sets at these steps."""
        if not self.own_AL:
            self.train[steps] = self._train(thetas)
        if self._test is not None:
            self.test[steps] = self._test(thetas)

    def score_last(self, t, theta):
        """Score θ_t on the whole sets at step t, the last one recorded when a run stops
        or diverges early: the summary ends with a train and test score."""
        with np.errstate(all="ignore"):
            self._whole_sets([t], [theta])
        self._scored_last = t

    def truncate(self, n):
        """Forget the scores from step n on."""
        for series in (self.batch, self.train, self.test):
            series[n:] = np.nan

    def as_dict(self, n):
        """The first n steps' scores as JSON-ready lists: `{name}_accuracy`, and for
        regression `{name}_r2` with the accuracies None; and `evaluated_every`."""
        regression = self.task == "regression"
        scores = {name: getattr(self, name)[:n].tolist() for name in NAMES}
        out = {**{f"{name}_accuracy": None if regression else values
                  for name, values in scores.items()},
               "evaluated_every": self.evaluated_every}
        if regression:
            out.update({f"{name}_r2": values for name, values in scores.items()})
        return out

    @property
    def nbytes(self):
        return self.batch.nbytes + self.train.nbytes + self.test.nbytes
