"""Call a function on a case and keep what it did: what it returned, and its inputs
afterwards (a function that changes an input in place has done something too).

The learner's function, the reference and every known mistake are observed the same
way, so their observations compare directly.
"""

import contextlib
import copy
import io
import warnings
from typing import NamedTuple

import numpy as np

from engine.check.cases import Case
from engine.check.compare import Difference, first_difference
from engine.check.course_functions import CourseFunction

# the seed the course's initialize_parameters_deep sets (CONTRACT §8)
SEED = 3
LONGEST_QUOTE = 300  # characters of a learner's message or line that a report quotes


def shortened(text: str) -> str:
    """text, or its first LONGEST_QUOTE characters and how many more there were."""
    if len(text) <= LONGEST_QUOTE:
        return text
    return f"{text[:LONGEST_QUOTE]}… ({len(text) - LONGEST_QUOTE:,} more characters)"


def exception_text(err: BaseException) -> str:
    """"ValueError: shapes (3,4) and (5,2) not aligned", as a report quotes it: the message
    shortened (a learner's may be megabytes long), and an exception whose str() raises
    still named."""
    try:
        said = str(err)
    except (Exception, SystemExit):  # a __str__ that raises, or ends the program
        said = "(its message could not be read)"
    return f"{type(err).__name__}: {shortened(said)}" if said else type(err).__name__


class Observation(NamedTuple):
    returned: object
    inputs: tuple | None  # after the call; None where changing them is allowed


class Discard(io.TextIOBase):
    """A text stream that forgets what is written to it: a learner's prints."""

    def writable(self):
        return True

    def write(self, text):
        return len(text)


@contextlib.contextmanager
def quiet():
    """No prints, warnings or floating-point complaints from the learner's code."""
    with (contextlib.redirect_stdout(Discard()), contextlib.redirect_stderr(Discard()),
          warnings.catch_warnings(), np.errstate(all="ignore")):
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def seeded(draws: bool, seeds: list | None = None):
    """np.random.seed(3), and np.random.seed made a no-op while the function runs: the
    course's own init functions seed themselves (initialize_parameters with 1), and
    the check compares draws after the same seed for everyone. The seeds the function
    asked for are appended to `seeds`."""
    if not draws:
        yield
        return
    seed, asked = np.random.seed, [] if seeds is None else seeds
    seed(SEED)
    np.random.seed = lambda *args, **kwargs: asked.append(args[0] if args else kwargs.get("seed"))
    try:
        yield
    finally:
        np.random.seed = seed


def observe(function, spec: CourseFunction, case: Case, seeds: list | None = None,
            notebook_seed: int | None = None) -> Observation:
    """Call function on a fresh copy of the case's arguments; exceptions propagate. The
    seeds it sets go to `seeds` (a function that draws). notebook_seed: run it as the
    course's notebook does instead, np.random.seed(notebook_seed) first and the
    function's own seeds acting."""
    args = case.make()
    if notebook_seed is not None:
        np.random.seed(notebook_seed)
    with quiet(), seeded(spec.draws and notebook_seed is None, seeds):
        returned = kept(function(*args))
    return Observation(returned, None if spec.may_change_inputs else args)


def kept(returned):
    """What a call returned, as it was then: a copy, so that a later call that changes the
    same objects (a list default, `caches=[]`, made once and returned by every call) does
    not change this call's record. A value that cannot be copied is kept as it is."""
    try:
        return copy.deepcopy(returned)
    except Exception:  # a learner's odd object (a generator, a module): compared as it is
        return returned


def difference(expected: Observation, got: Observation) -> Difference | None:
    """The first difference of the returned values, then of the inputs afterwards."""
    found = first_difference(expected.returned, got.returned, ("return",))
    if found or expected.inputs is None:
        return found
    return first_difference(expected.inputs, got.inputs, ("input",))


MISSING = object()


def value_at(observation: Observation, path: tuple):
    """The value at a Difference's path, or MISSING if the observation has none there."""
    value = observation.returned if path[0] == "return" else observation.inputs
    for key in path[1:]:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return value
