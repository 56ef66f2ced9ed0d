"""What the check of one function concludes, and its words: a pass, a fail at the first
difference (with the recognised mistake's hint, else a general one), or an error (what
was raised, at which of the learner's lines, and what the course function it called was
given). The records are CONTRACT §8's `functions` and `first_failure`.
"""

import linecache
import traceback
from typing import NamedTuple

import numpy as np

from engine import course
from engine.check.cases import Case
from engine.check.compare import Difference, describe
from engine.check.course_functions import NAMES, layer_named, meaning, what
from engine.check.dnn_utils import IMPORTED
from engine.check.general_hints import error_hint, general_hint
from engine.check.mistake_hints import recognise_error
from engine.check.observe import exception_text, shortened

# the code of each course function, to name the one an error was raised in (dnn_utils'
# helpers too, which a learner's code calls)
COURSE_CODE = {**{getattr(course, name).__code__: name for name in NAMES},
               **{f.__code__: name for name, f in IMPORTED.items()}}
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
    code, values = callee.tb_frame.f_code, callee.tb_frame.f_locals
    parameters = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    return name, ", ".join(describe_argument(a, values[a]) for a in parameters
                           if values.get(a) is not None)


def learner_line(err: BaseException, filename: str) -> str:
    """"line 5: Z = np.dot(W, A) + b" of the last frame in the learner's file."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    frame = frames[-1]
    text = (frame.line or linecache.getline(filename, frame.lineno)).strip()
    last = getattr(frame, "end_lineno", None) or frame.lineno
    lines = [linecache.getline(filename, n).strip() for n in range(frame.lineno, last + 1)]
    if last > frame.lineno:  # a call written over several lines: the whole of it, or, where
        # a line holds a comment that would swallow the rest, its first line and "…"
        text = text + " …" if any("#" in line for line in lines) else " ".join(lines)
    # a notebook cell's file is "<notebook>, code cell 3": say the cell and its line
    cell = filename.split(", ", 1)[1] + ", " if ", code cell " in filename else ""
    place = f"{cell}line {frame.lineno}"
    return f"{place}: {shortened(text)}" if text else place
