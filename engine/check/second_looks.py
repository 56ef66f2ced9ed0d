"""Second looks at a function, beyond comparing its result on each case: an init
function's own seeds (set again inside its loop, or a generator of its own that
np.random.seed does not reach), and a call again on the first case's shapes with other
values (a result stored by shape passes every case, since each has shapes of its own).
"""

from typing import NamedTuple

import numpy as np

from engine.check.cases import Case
from engine.check.compare import describe, first_difference
from engine.check.course_functions import REFERENCE
from engine.check.observe import MISSING, difference, observe, value_at
from engine.check.outcomes import FunctionResult, errored, failed

# the seed each of the course's init functions sets itself, which its notebook's tests expect
COURSE_SEEDS = {"initialize_parameters": 1, "initialize_parameters_deep": 3}
SEEDED_AGAIN = ("Your {name} sets np.random.seed more than once in one call (inside its "
                "loop?): each time restarts the same random draws, so every W[l] starts with "
                "W1's numbers. The course sets the seed once, before the loop, and each W[l] "
                "takes the next draws. (The check seeds for everyone and ignores a function's "
                "own seeds; here it honours them, as the notebook runs it.)")


class SeededAgain(NamedTuple):
    """The mistake of seeding more than once a call, as failed() names it: no mutation of
    the course's code runs it (the check's no-op seed would hide it)."""

    hint: str
    name: str = "seeded_again"


def seeded_again(spec, learner, cases, seeds: list) -> FunctionResult | None:
    """A fail for an init function that sets the seed more than once a call (the check's
    no-op seed hides that: observe.seeded), at the first case where, with its seeds
    honoured, it differs from the course's after the course's seed; else None."""
    wanted = COURSE_SEEDS.get(spec.name)
    if wanted is None or len(seeds) <= len(cases):
        return None
    hint = SEEDED_AGAIN.format(name=spec.name)
    for case in cases:
        expected = observe(REFERENCE[spec.name], spec, case, notebook_seed=wanted)
        found = difference(expected, observe(learner, spec, case, notebook_seed=wanted))
        if found:
            return failed(spec, case.label, found, SeededAgain(hint))
    return None


# a learner's own generator, np.random.RandomState(1), which np.random.seed does not reach
OWN_GENERATOR = ("; note: its draws ignore np.random.seed (its own generator?), and they are "
                 "the course's after np.random.seed({seed}), as the notebook's test shows them")


OTHER_GENERATOR = ("; note: its draws ignore np.random.seed (its own generator?) and are the "
                   "course's after this check's np.random.seed(3), so the notebook's own test, "
                   "which expects them after np.random.seed({seed}), will show other numbers")


def ignores_the_seed(spec, learner, case) -> bool:
    """Whether an init function draws the same numbers after two different global seeds
    (setting none itself): from a generator of its own."""
    wanted = COURSE_SEEDS[spec.name]
    try:
        first, second = (observe(learner, spec, case, notebook_seed=seed).returned
                         for seed in (wanted, wanted + 1))
    except (Exception, SystemExit):
        return False
    return first_difference(first, second) is None


def own_generator(spec, learner, cases) -> bool:
    """Whether an init function whose draws differ after the check's seed gives the
    course's numbers after the course's own seed on every case (np.random.seed honoured,
    as the notebook runs it): its draws come from a generator of its own, seeded as the
    course seeds (np.random.RandomState(1)), which the check's np.random.seed(3) does not
    reach."""
    wanted = COURSE_SEEDS.get(spec.name)
    if wanted is None:
        return False
    for case in cases:
        try:
            theirs = observe(learner, spec, case, notebook_seed=wanted)
        except (Exception, SystemExit):
            return False
        if difference(observe(REFERENCE[spec.name], spec, case, notebook_seed=wanted), theirs):
            return False
    return True


class StoredResult(NamedTuple):
    """Called again on other values of the same shapes, the function returned what it
    returned before: a result kept from an earlier call (a memo keyed by shape)."""

    hint: str
    name: str = "stored_result"


STORED_RESULT = ("Called again on other values of the same shapes, your {name} returned what "
                 "it returned the first time: it gives back a result it stored (a cache keyed "
                 "by shape?). Compute it from the arguments of every call.")


def squared(value):
    """value with every array x as x²: the same shapes and kinds (a probability stays one,
    0/1 labels stay 0/1, a cost's AL moves where 1 − AL would leave it unchanged)."""
    if isinstance(value, np.ndarray):
        return value * value
    if isinstance(value, dict):
        return {k: squared(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(squared(v) for v in value)
    return value


def called_again(spec, function, learner, case: Case, first) -> FunctionResult | None:
    """A fail or an error for a function that passed every case but, called once more on
    the first case's shapes with other values (each array x as x²), differs from the
    course: each case has shapes of its own, so a function that keeps its first result
    for each shape had passed them all. None where it agrees, or draws (no arrays in)."""
    if spec.draws:
        return None
    again = Case(f"{case.label}, called again with each array x as x²",
                 lambda: squared(case.make()), case.hidden, case.activation)
    try:
        theirs = observe(learner, spec, again)
    except (Exception, SystemExit) as err:
        expected = describe(observe(REFERENCE[spec.name], spec, again).returned)
        return errored(spec, again, expected, err, function.__code__.co_filename)
    found = difference(observe(REFERENCE[spec.name], spec, again), theirs)
    if not found:
        return None
    # what differs is what the first call gave there (a stored A beside a fresh cache)
    kept_there = value_at(first, found.path)
    same = kept_there is not MISSING and first_difference(kept_there,
                                                          value_at(theirs, found.path)) is None
    return failed(spec, again.label, found,
                  StoredResult(STORED_RESULT.format(name=spec.name)) if same else None)


def seed_note(spec, learner, cases, seeds: list) -> str:
    """The note of a passing init function that does not set the course's seed: the
    check draws after np.random.seed(3) whatever the function sets, but the notebook's
    own test will not. A function that sets none and ignores the check's seed draws
    from a generator of its own: seeded as the course's function seeds, or otherwise."""
    wanted = COURSE_SEEDS.get(spec.name)
    if wanted is None or wanted in seeds:
        return ""
    if not seeds and ignores_the_seed(spec, learner, cases[0]):
        return own_generator_note(spec) if own_generator(spec, learner, cases) else \
            OTHER_GENERATOR.format(seed=wanted)
    yours = f"sets np.random.seed({seeds[-1]})" if seeds else "sets no seed"
    return (f"; note: it {yours}, where the course's sets np.random.seed({wanted}) first, so "
            "the notebook's own test will show other numbers (this check seeds for everyone)")


def own_generator_note(spec) -> str:
    """The note of an init function that passes by own_generator."""
    return OWN_GENERATOR.format(seed=COURSE_SEEDS[spec.name])
