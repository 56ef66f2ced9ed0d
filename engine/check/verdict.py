"""Check a learner's course functions against engine.course, each alone.

While one function is checked, the course functions it calls are the reference's, so a
mistake in linear_forward does not fail L_model_forward too: each verdict stands on its
own. The learner's namespace is never changed; the function is checked as a copy that
sees the reference's callees.
"""

import inspect
import linecache
import traceback
import types
from typing import NamedTuple

import numpy as np

from engine import course
from engine.check.cases import CASES, Case
from engine.check.compare import Difference, describe, first_difference
from engine.check.course_functions import (
    BY_NAME,
    FUNCTIONS,
    HELPERS,
    NAMES,
    CourseFunction,
    layer_named,
    meaning,
    what,
)
from engine.check.general_hints import error_hint, general_hint, out_of_order, shared_default
from engine.check.mistake_hints import recognise, recognise_error
from engine.check.observe import (
    MISSING,
    difference,
    exception_text,
    observe,
    shortened,
    value_at,
)
from engine.check.source import placed


def in_backward_order(L_model_backward):
    """The reference's grads, keys in the order backward computes them: layer L's dA[L-1],
    dW[L], db[L] first. The first difference found is then the first one made."""
    def ordered(AL, Y, caches):
        grads = L_model_backward(AL, Y, caches)
        return {k: grads[k] for l in range(len(caches), 0, -1)
                for k in (f"dA{l - 1}", f"dW{l}", f"db{l}")}
    return ordered


REFERENCE = {name: getattr(course, name) for name in NAMES}
REFERENCE["L_model_backward"] = in_backward_order(course.L_model_backward)
# the code of each course function, to name the one an error was raised in
COURSE_CODE = {getattr(course, name).__code__: name for name in NAMES}
TIME_HINT = "An endless loop, or a wait? Check that every loop ends, and that nothing sleeps."


class Failure(NamedTuple):
    """What differs first, for CONTRACT §8's first_failure (and a few harmless extras)."""

    function: str
    what: str
    expected: str
    got: str
    hint: str | None
    case: str | None  # None where it is not known (the process was stopped)
    differs: str  # type, length, keys, shape, values, or error
    means: str | None = None  # what sits there: "A_prev in linear_cache"
    mistake: str | None = None  # the recognised mistake's name
    layer: int | None = None  # the layer `what` names, if it names one


class FunctionResult(NamedTuple):
    name: str
    status: str  # pass, fail, missing or error
    detail: str
    failure: Failure | None = None


def learner_functions(namespace) -> dict:
    """The functions defined in the namespace itself (not imported), by name."""
    module = namespace.get("__name__")
    return {name: value for name, value in list(namespace.items())
            if isinstance(value, types.FunctionType)
            and (module is None or value.__module__ == module)}


def alone(function, name: str):
    """A copy of function that calls the reference's course functions (itself aside), and
    so do the learner's functions it holds in its closure: a decorator's wrapper calls the
    function it wraps from there (a wrapper from the learner's own module too)."""
    callees = {n: getattr(course, n) for n in NAMES if n != name}
    return _with_callees(function, callees, {}, {})


def _with_callees(function, callees, copies, namespaces):
    """function copied to read its globals with callees over them, and each function of
    the learner's in its closure copied likewise (copies: those made so far, by id;
    namespaces: the globals made so far, by the id of the globals they copy)."""
    if id(function) in copies:
        return copies[id(function)]
    own = function.__globals__
    if id(own) not in namespaces:
        namespaces[id(own)] = {**own, **callees}
    closure = function.__closure__ or ()
    cells = tuple(types.CellType() if _learners(cell, function) else cell for cell in closure)
    copy = copies[id(function)] = types.FunctionType(
        function.__code__, namespaces[id(own)], function.__name__, function.__defaults__,
        cells or None)
    copy.__kwdefaults__ = function.__kwdefaults__
    for new, old in zip(cells, closure, strict=True):
        if new is not old:  # filled once the copy is known: a function may hold itself
            new.cell_contents = _with_callees(old.cell_contents, callees, copies, namespaces)
    return copy


def _learners(cell, function) -> bool:
    """Whether a closure's cell holds a function of the learner's: one of their file's
    (`__main__`, where the check runs it) or of the module that function comes from."""
    try:
        held = cell.cell_contents
    except ValueError:  # a cell not filled yet
        return False
    return isinstance(held, types.FunctionType) and (
        held.__globals__ is function.__globals__ or held.__globals__.get("__name__") == "__main__")


def check_namespace(namespace) -> list[FunctionResult]:
    """Every course function in §8's order, checked in this process (a learner's kernel,
    whose np.random state is left as it was)."""
    state = np.random.get_state()
    try:
        return [check_named(spec, namespace) for spec in FUNCTIONS]
    finally:
        np.random.set_state(state)


def check_named(spec: CourseFunction, namespace) -> FunctionResult:
    """The verdict on the namespace's own function of that name: missing if it has none."""
    function = learner_functions(namespace).get(spec.name)
    if function is not None:
        return check_function(spec, function)
    found = namespace.get(spec.name)
    if callable(found):
        source = getattr(found, "__module__", None) or "elsewhere"
        detail = f"imported from {source}, not defined here: not checked"
    elif spec.name in HELPERS:
        detail = "not defined: the engine's own is used where it is needed"
    else:
        detail = "not defined"
    return FunctionResult(spec.name, "missing", detail)


def without_asserts(function):
    """The function compiled again without its assert statements (as python -O does), from
    its source where linecache has it; None where that cannot be done."""
    try:
        code = function.__code__
        # at its own line numbers (a decorated function's first line is its decorator's)
        module = compile(placed(inspect.getsource(function), code.co_firstlineno),
                         code.co_filename, "exec", optimize=1)
        inner = next(c for c in module.co_consts
                     if isinstance(c, types.CodeType) and c.co_name == code.co_name)
        if inner.co_freevars:
            return None
        twin = types.FunctionType(inner, function.__globals__, function.__name__,
                                  function.__defaults__)
        twin.__kwdefaults__ = function.__kwdefaults__
        return twin
    except (OSError, TypeError, SyntaxError, StopIteration, ValueError):
        return None


def behind_the_assert(spec: CourseFunction, function, result: FunctionResult) -> FunctionResult:
    """A learner's own assert failed (the course's templates hold shape asserts): the hint
    says what the function does without it, a known mistake or none."""
    twin = without_asserts(function)
    if twin is None or twin.__code__.co_code == function.__code__.co_code:
        return result
    verdict = check_function(spec, twin)
    if verdict.status == "pass":
        hint = ("Without its assert the function gives the course's results: the assert's "
                "condition is what is wrong.")
    elif verdict.status == "fail":
        hint = (f"Your assert caught a real mistake. Without it, {verdict.detail}"
                + (f". {verdict.failure.hint}" if verdict.failure.hint else ""))
    else:
        return result
    return result._replace(failure=result.failure._replace(hint=hint))


def check_function(spec: CourseFunction, function) -> FunctionResult:
    """Pass, fail or error: the learner's function against the reference on every case."""
    learner, cases = alone(function, spec.name), CASES[spec.name]
    got, seeds = [], []
    for case in cases:
        try:
            got.append(observe(learner, spec, case, seeds))
        except (Exception, SystemExit) as err:
            expected = describe(observe(REFERENCE[spec.name], spec, case).returned)
            result = errored(spec, case, expected, err, function.__code__.co_filename)
            if isinstance(err, AssertionError) and not result.failure.mistake:
                return behind_the_assert(spec, function, result)
            return result
    for index, (case, theirs) in enumerate(zip(cases, got, strict=True)):
        reference = observe(REFERENCE[spec.name], spec, case)
        found = difference(reference, theirs)
        if found and own_generator(spec, learner, cases):
            return FunctionResult(spec.name, "pass", f"matches the course on {len(cases)} cases"
                                  + OWN_GENERATOR.format(seed=COURSE_SEEDS[spec.name]))
        elif found:
            mistake = recognise(spec, cases, got, index, found, reference) or \
                out_of_order(spec, reference, theirs) or \
                (shared_default(function) if found.kind in ("length", "keys") else None)
            return failed(spec, case.label, found, mistake)
    reseeded = seeded_again(spec, learner, cases, seeds) or called_again(spec, function, learner,
                                                                         cases[0], got[0])
    if reseeded is not None:
        return reseeded
    note = seed_note(spec.name, seeds)
    if note and not seeds and ignores_the_seed(spec, learner, cases[0]):
        # its own generator: seeded as the course's function seeds, or otherwise
        note = (OWN_GENERATOR if own_generator(spec, learner, cases) else OTHER_GENERATOR
                ).format(seed=COURSE_SEEDS[spec.name])
    return FunctionResult(spec.name, "pass", f"matches the course on {len(cases)} cases" + note)


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


def seed_note(name: str, seeds: list) -> str:
    """A passing init function that does not set the course's seed: the check draws after
    np.random.seed(3) whatever the function sets, but the notebook's own test will not."""
    wanted = COURSE_SEEDS.get(name)
    if wanted is None or wanted in seeds:
        return ""
    yours = f"sets np.random.seed({seeds[-1]})" if seeds else "sets no seed"
    return (f"; note: it {yours}, where the course's sets np.random.seed({wanted}) first, so "
            "the notebook's own test will show other numbers (this check seeds for everyone)")


def failed(spec, case: str, found: Difference, mistake) -> FunctionResult:
    failure = Failure(spec.name, what(spec, found.path), found.expected, found.got,
                      mistake.hint if mistake else general_hint(spec, found), case, found.kind,
                      meaning(spec, found.path), mistake.name if mistake else None,
                      layer_named(spec, found.path))
    means = f" ({failure.means})" if failure.means else ""
    return FunctionResult(spec.name, "fail",
                          f"{failure.what}{means}: {found.summary}, in {case}", failure)


def errored(spec, case: Case, expected: str, err: BaseException, filename: str
            ) -> FunctionResult:
    """It raised: say what, the learner's line where it happened, and the classic mistake
    that raises the same, or what the course function it called was given."""
    message = exception_text(err)
    callee = course_callee(err, filename)
    given = f"in the course's {callee[0]}, given {callee[1]}" if callee else ""
    where = "; ".join(filter(None, [learner_line(err, filename), given]))
    mistake = recognise_error(spec, case, err)
    hint = mistake.hint if mistake else error_hint(err, spec.name)
    if hint is None and callee:
        hint = (f"It stopped inside the course's {callee[0]}, which your line called: check "
                "the shapes of what you pass it.")
    failure = Failure(spec.name, "the call", expected, f"raised {message}", hint, case.label,
                      "error", mistake=mistake.name if mistake else None)
    return FunctionResult(spec.name, "error",
                          f"raised {message}{f' ({where})' if where else ''}, in {case.label}",
                          failure)


def timed_out(name: str, seconds: float) -> FunctionResult:
    """Stopped at its time limit, whichever process stopped it."""
    said = f"ran longer than {seconds:g} s and was stopped"
    failure = Failure(name, "the call", f"its results within {seconds:g} s", said, TIME_HINT,
                      None, "error")
    return FunctionResult(name, "error", said, failure)


def not_read(name: str, why: str, hint: str) -> FunctionResult:
    """A function of the learner's whose definition could not be read or run."""
    failure = Failure(name, "the definition", "a definition the check can read and run", why,
                      hint, None, "error")
    return FunctionResult(name, "error", why, failure)


def describe_argument(name: str, value) -> str:
    if isinstance(value, np.ndarray):
        return f"{name} of shape {value.shape}"
    return f"{name} = {value!r}" if isinstance(value, str | int | float) else \
        f"{name} = {describe(value).split(':')[0]}"


def course_callee(err: BaseException, filename: str) -> tuple[str, str] | None:
    """(the course function, what it was given: "A of shape (5, 4), ...") when the error
    was raised inside a course function that the learner's file called, most often with
    the wrong shapes."""
    tb, callee = err.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            callee = tb.tb_next  # the frame the learner's line called, if it is Python's
        tb = tb.tb_next
    name = COURSE_CODE.get(callee.tb_frame.f_code) if callee else None
    if name is None:
        return None
    values = callee.tb_frame.f_locals
    return name, ", ".join(describe_argument(a, values[a]) for a in BY_NAME[name].params
                           if a in values)


def learner_line(err: BaseException, filename: str) -> str:
    """"line 5: Z = np.dot(W, A) + b" of the last frame in the learner's file."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    frame = frames[-1]
    text = (frame.line or linecache.getline(filename, frame.lineno)).strip()
    # a notebook cell's file is "<notebook>, code cell 3": say the cell and its line
    cell = filename.split(", ", 1)[1] + ", " if ", code cell " in filename else ""
    place = f"{cell}line {frame.lineno}"
    return f"{place}: {shortened(text)}" if text else place
