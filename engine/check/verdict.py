"""Check a learner's course functions against engine.course, each alone.

While one function is checked, the course functions it calls are the reference's, so a
mistake in linear_forward does not fail L_model_forward too: each verdict stands on its
own. The learner's namespace is never changed; the function is checked as a copy that
sees the reference's callees.
"""

import contextlib
import copy as copy_module
import functools
import inspect
import types

import numpy as np

from engine import course
from engine.check.cases import CASES
from engine.check.compare import describe
from engine.check.course_functions import (
    FUNCTIONS,
    HELPERS,
    NAMES,
    REFERENCE,
    CourseFunction,
)
from engine.check.dnn_utils import IMPORTED
from engine.check.general_hints import (
    other_step_size,
    out_of_order,
    shared_default,
    single_precision,
)
from engine.check.mistake_hints import recognise
from engine.check.observe import difference, observe
from engine.check.outcomes import FunctionResult, errored, failed
from engine.check.second_looks import (
    called_again,
    own_generator,
    own_generator_note,
    seed_note,
    seeded_again,
)
from engine.check.statements import placed


def learner_functions(namespace) -> dict:
    """The functions defined in the namespace itself (not imported), by name; a decorated
    one as the namespace holds it (functools.lru_cache's wrapper, a decorator object)."""
    module = namespace.get("__name__")
    return {name: value for name, value in list(namespace.items())
            if defined_function(value, module) is not None}


def defined_function(value, module=None):
    """The function of that module's own behind value: value itself, the one a decorator
    wrapped (`__wrapped__`), or the one an instance of the module's own decorator class
    holds; None where there is none (module None: any module's)."""
    def own(item):
        return isinstance(item, types.FunctionType) and module in (None, item.__module__)

    if own(value) or not callable(value) or isinstance(value, type):
        return value if own(value) else None
    try:
        inner = inspect.unwrap(value)
    except Exception:  # a cycle of __wrapped__, or an object whose attributes raise
        return None
    if own(inner):
        return inner
    if module is not None and type(value).__module__ != module:
        return None
    return next((item for item in vars(value).values() if own(item)), None) \
        if hasattr(value, "__dict__") else None


# what a learner's code calls by each course function's name: the reference's, the helpers
# as the course's dnn_utils gives them
CALLEES = {name: IMPORTED.get(name, getattr(course, name)) for name in NAMES}


def alone(function, name: str):
    """A copy of function that calls the reference's course functions (itself aside), and
    so do the learner's functions it holds in its closure: a decorator's wrapper calls the
    function it wraps from there (a wrapper from the learner's own module too)."""
    callees = {n: CALLEES[n] for n in NAMES if n != name}
    return _with_callees(function, callees, {}, {})


def _with_callees(function, callees, copies, namespaces):
    """function copied to read its globals with callees over them, and each function of
    the learner's in its closure or its module copied likewise, so that a helper of their
    own (`def _act(name): return {"relu": relu}[name]`) calls the reference too (copies:
    those made so far, by id; namespaces: the globals made so far, by the id of the
    globals they copy)."""
    if id(function) in copies:
        return copies[id(function)]
    if not isinstance(function, types.FunctionType):
        return _rewrapped(function, callees, copies, namespaces)
    own = function.__globals__
    fresh = id(own) not in namespaces
    if fresh:
        namespaces[id(own)] = _swapped_globals(own, callees)
    closure = function.__closure__ or ()
    cells = tuple(types.CellType() if _learners(cell, function) else cell for cell in closure)
    copy = copies[id(function)] = types.FunctionType(
        function.__code__, namespaces[id(own)], function.__name__, function.__defaults__,
        cells or None)
    copy.__kwdefaults__ = function.__kwdefaults__
    for new, old in zip(cells, closure, strict=True):
        if new is not old:  # filled once the copy is known: a function may hold itself
            new.cell_contents = _with_callees(old.cell_contents, callees, copies, namespaces)
    if fresh:  # once the copy is known, for the same reason
        namespace = namespaces[id(own)]
        for name, value in list(namespace.items()):
            inner = defined_function(value)
            if inner is not None and inner.__globals__ is own:
                namespace[name] = _with_callees(value, callees, copies, namespaces)
    return copy


def _rewrapped(wrapper, callees, copies, namespaces):
    """A decorator's wrapper made again around the copy of what it wraps: lru_cache's
    with an empty cache; a decorator object copied, with each function it holds copied."""
    if hasattr(wrapper, "cache_parameters"):  # functools.lru_cache and functools.cache
        inner = _with_callees(wrapper.__wrapped__, callees, copies, namespaces)
        twin = functools.lru_cache(**wrapper.cache_parameters())(inner)
    else:
        try:
            twin = copy_module.copy(wrapper)
        except Exception:  # a learner's class may refuse to be copied
            return wrapper
        for name, value in vars(wrapper).items():
            if isinstance(value, types.FunctionType):
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(twin, name, _with_callees(value, callees, copies, namespaces))
    copies[id(wrapper)] = twin
    return twin


# a dispatch table longer than this is no dispatch table: it is not searched
TABLE_ITEMS = 64


def _swapped_globals(own, callees):
    """A copy of a module's globals with callees over them, and over the learner's own
    course functions where a small top-level dict, list or tuple holds them (`FORWARD =
    {"relu": relu}`) or a functools.partial wraps them (`hidden = partial(
    linear_activation_forward, activation="relu")`): a function that calls through
    those calls the reference too."""
    theirs = {id(own[name]): callee for name, callee in callees.items()
              if isinstance(own.get(name), types.FunctionType)}

    def swap(item):
        if isinstance(item, functools.partial):
            func = swap(item.func)
            return item if func is item.func else functools.partial(func, *item.args,
                                                                     **item.keywords)
        return theirs.get(id(item), item)

    def swapped(value):
        if type(value) in (dict, list, tuple) and len(value) <= TABLE_ITEMS:
            items = list(value.items() if isinstance(value, dict) else enumerate(value))
            new = {key: swap(item) for key, item in items}
            if any(new[key] is not item for key, item in items):
                return new if isinstance(value, dict) else type(value)(new.values())
            return value
        return swap(value)

    return {**{name: swapped(value) for name, value in own.items()}, **callees}


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
    """Pass, fail or error: the learner's function against the reference on every case;
    a decorated function is called through its decorator, and read (its source, its file,
    its defaults) as the function it wraps."""
    learner, cases = alone(function, spec.name), CASES[spec.name]
    source = defined_function(function)
    got, seeds = [], []
    for case in cases:
        try:
            got.append(observe(learner, spec, case, seeds))
        except (Exception, SystemExit) as err:
            earlier = first_failure(spec, source, cases[:len(got)], got)
            if earlier is not None and not own_generator(spec, learner, cases[:len(got)]):
                return earlier  # (the course's own case, which the notebook shows, first)
            expected = describe(observe(REFERENCE[spec.name], spec, case).returned)
            result = errored(spec, case, expected, err, source.__code__.co_filename)
            if isinstance(err, AssertionError) and not result.failure.mistake:
                return behind_the_assert(spec, source, result)
            return result
    failure = first_failure(spec, source, cases, got)
    if failure is not None and own_generator(spec, learner, cases):
        return FunctionResult(spec.name, "pass", f"matches the course on {len(cases)} cases"
                              + own_generator_note(spec))
    if failure is not None:
        return failure
    reseeded = seeded_again(spec, learner, cases, seeds) or called_again(spec, source, learner,
                                                                         cases[0], got[0])
    if reseeded is not None:
        return reseeded
    return FunctionResult(spec.name, "pass", f"matches the course on {len(cases)} cases"
                          + seed_note(spec, learner, cases, seeds))


def first_failure(spec: CourseFunction, function, cases, got) -> FunctionResult | None:
    """The fail at the first of the cases whose observation (got) differs from the
    reference's, with the mistake that explains it where one does; None where none
    differs."""
    for index, (case, theirs) in enumerate(zip(cases, got, strict=True)):
        reference = observe(REFERENCE[spec.name], spec, case)
        found = difference(reference, theirs)
        if found:
            mistake = recognise(spec, cases, got, index, found, reference) or \
                out_of_order(spec, reference, theirs) or \
                other_step_size(spec, case, theirs) or \
                single_precision(spec, found, reference, theirs) or \
                (shared_default(function) if found.kind in ("length", "keys") else None)
            return failed(spec, case.label, found, mistake)
    return None
