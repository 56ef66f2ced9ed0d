"""Tests for engine.check.outcomes: the records and words of a pass, a fail and an error."""

import linecache

import numpy as np

from engine import course
from engine.check.cases import CASES
from engine.check.compare import first_difference
from engine.check.course_functions import BY_NAME
from engine.check.outcomes import (
    course_callee,
    errored,
    failed,
    learner_line,
    not_read,
    timed_out,
)

FILE = "outcomes_learner.py"
SOURCE = '''import numpy as np

def linear_forward(A, W, b):
    Z = np.dot(W, A.T) + b
    return Z, (A, W, b)

def L_layer(A, W, b):
    return course.linear_forward(A.T, W, b)

def wrapped(A, W, b):
    Z, cache = course.linear_forward(A.T,
                                     W, b)
    return Z, cache

def commented(A, W, b):
    return course.linear_forward(A.T,  # the examples as rows
                                 W, b)
'''


def learners(name):
    """A function of a learner's file, whose lines a traceback can show."""
    linecache.cache[FILE] = (len(SOURCE), None, SOURCE.splitlines(True), FILE)
    namespace = {"__name__": "__main__", "course": course}
    exec(compile(SOURCE, FILE, "exec"), namespace)
    return namespace[name]


def raised(function, *args) -> BaseException:
    try:
        function(*args)
    except Exception as err:  # any error is the one under test
        return err
    raise AssertionError("it did not raise")


def test_a_failure_names_what_differs_what_it_means_and_the_case():
    spec = BY_NAME["linear_forward"]
    expected = (np.ones((1, 2)), (np.zeros((3, 2)), np.ones((1, 3)), np.zeros((1, 1))))
    got = (np.ones((1, 2)), (np.ones((1, 2)), np.ones((1, 3)), np.zeros((1, 1))))
    found = first_difference(expected, got, ("return",))
    result = failed(spec, "the course's test case", found, None)
    assert (result.name, result.status) == ("linear_forward", "fail")
    assert result.failure.what == "cache[0]"
    assert result.failure.means == "A_prev"
    assert result.detail == (f"cache[0] (A_prev): {found.summary}, "
                             "in the course's test case")
    assert (result.failure.differs, result.failure.mistake) == ("shape", None)


def test_an_error_names_the_learners_line_and_what_was_raised():
    case = CASES["linear_forward"][0]
    A, W, b = case.make()
    err = raised(learners("linear_forward"), A, W, b)
    assert learner_line(err, FILE) == "line 4: Z = np.dot(W, A.T) + b"
    assert course_callee(err, FILE) is None  # raised in NumPy, not in a course function
    result = errored(BY_NAME["linear_forward"], case, "Z", err, FILE)
    assert result.status == "error"
    assert result.detail.startswith("raised ValueError: shapes (1,3) and (2,3) not aligned")
    assert "(line 4: Z = np.dot(W, A.T) + b)" in result.detail
    assert result.detail.endswith(f", in {case.label}")


def test_an_error_inside_a_course_function_says_what_it_was_given():
    A, W, b = CASES["linear_forward"][0].make()
    err = raised(learners("L_layer"), A, W, b)
    assert course_callee(err, FILE) == ("linear_forward", "A of shape (2, 3), W of shape "
                                                          "(1, 3), b of shape (1, 1)")


def test_a_stopped_or_unread_function_is_an_error_with_its_hint():
    stopped = timed_out("relu", 10)
    assert (stopped.status, stopped.detail) == ("error", "ran longer than 10 s and was stopped")
    assert stopped.failure.case is None and "endless loop" in stopped.failure.hint
    unread = not_read("relu", "its definition raised NameError", "define it first")
    assert (unread.status, unread.failure.what, unread.failure.hint) == (
        "error", "the definition", "define it first")


def test_a_call_written_over_several_lines_is_quoted_whole():
    """Its first line alone ended in a comma: "line 11: Z, cache = course.linear_forward(A.T,"."""
    A, W, b = CASES["linear_forward"][0].make()
    err = raised(learners("wrapped"), A, W, b)
    assert learner_line(err, FILE) == "line 11: Z, cache = course.linear_forward(A.T, W, b)"


def test_a_call_over_lines_with_a_comment_is_quoted_by_its_first_line():
    """Joined, the comment would swallow what follows it."""
    A, W, b = CASES["linear_forward"][0].make()
    err = raised(learners("commented"), A, W, b)
    assert learner_line(err, FILE) == ("line 16: return course.linear_forward(A.T,  # the "
                                       "examples as rows …")
