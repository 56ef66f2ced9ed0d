"""engine.check.general_hints: hints for mistakes that no mutation makes, each from what the
learner's function did (tests/test_check_verdict.py checks them end to end)."""

import math

import numpy as np
import pytest

from engine.check.cases import CASES
from engine.check.compare import Difference
from engine.check.course_functions import BY_NAME
from engine.check.general_hints import (
    error_hint,
    general_hint,
    kind_of,
    other_step_size,
    out_of_order,
    shared_default,
    single_precision,
    unbound_hint,
)
from engine.check.observe import Observation, observe


@pytest.mark.parametrize(("described", "kind"), [
    ("a tuple of 4: (an array (5, 4), ...)", "a tuple of 4"),
    ("an array (1, 2): [[3.26, -1.23]]", "an array (1, 2)"),
    ("None", "None"),
    ("'dA_prev: oops'", "'dA_prev: oops'"),  # a string's own colon is not the description's
])
def test_kind_of_a_described_value(described, kind):
    assert kind_of(described) == kind


def test_results_in_another_order_are_named_in_that_order():
    spec = BY_NAME["linear_backward"]
    dA_prev, dW, db = np.ones((5, 4)), np.full((3, 5), 2.0), np.full((3, 1), 3.0)
    expected = Observation((dA_prev, dW, db), None)
    hint = out_of_order(spec, expected, Observation((dW, db, dA_prev), None)).hint
    assert hint == ("Your linear_backward returns the right values in another order: dW, db, "
                    "dA_prev. The course returns dA_prev, dW, db, in that order.")
    assert out_of_order(spec, expected, Observation((dA_prev, dW, db), None)) is None
    assert out_of_order(spec, expected, Observation((dW, 2 * db, dA_prev), None)) is None


def test_values_in_another_order_may_come_from_a_call_unpacked_in_another_order():
    """`dW, db, dA_prev = linear_backward(...)` then the course's return line gives the
    same results as a return line in another order: the hint names both lines."""
    spec = BY_NAME["linear_activation_backward"]
    dA_prev, dW, db = np.ones((5, 4)), np.full((3, 5), 2.0), np.full((3, 1), 3.0)
    expected = Observation((dA_prev, dW, db), None)
    hint = out_of_order(spec, expected, Observation((db, dA_prev, dW), None)).hint
    assert "another order: db, dA_prev, dW." in hint
    assert hint.endswith("If your return line has that order, the line that takes "
                         "linear_backward's results has not: dA_prev, dW, db = "
                         "linear_backward(dZ, linear_cache).")


def _float32_sigmoid(Z):
    return 1 / (1 + np.exp(-Z.astype(np.float32)))


FLOAT32 = "float32's precision"
ROUNDED = "something rounds on the way"


@pytest.mark.parametrize(("sigmoid", "named"), [
    (_float32_sigmoid, FLOAT32),  # float32 numbers
    (lambda Z: _float32_sigmoid(Z).astype(float), FLOAT32),  # float32's numbers in float64
    # float64 numbers rounded on the way: an input made float32 (NumPy goes back to float64
    # with a float64 operand), a near miss, an epsilon; the course's allclose lets them by
    (lambda Z: 1 / (1 + np.exp(-Z.astype(np.float32) + np.zeros_like(Z))), ROUNDED),
    (lambda Z: 1 / (1 + np.exp(-Z)) * (1 + 3e-7), ROUNDED),
    (lambda Z: 1 / (1 + 2.71828 ** -Z), ROUNDED),  # e typed short
    (lambda Z: 1 / (1 + np.exp(-Z)) * 1.001, None),  # a difference, not a rounding
])
def test_numbers_that_agree_to_about_7_digits_are_named(sigmoid, named):
    spec, case = BY_NAME["sigmoid"], CASES["sigmoid"][0]
    expected = observe(lambda Z: (1 / (1 + np.exp(-Z)), Z), spec, case)
    got = observe(lambda Z: (sigmoid(Z), Z), spec, case)
    found = Difference(("return", 0), "values", "", "", "")
    hint = single_precision(spec, found, expected, got)
    if named is None:
        assert hint is None
    else:
        assert hint.hint.startswith(f"Your A agrees with the course's to about 7 digits, then "
                                    f"differs: {named}")


def test_a_list_default_is_named_and_an_immutable_one_is_not():
    def L_model_forward(X, parameters, caches=[]):  # noqa: B006 (the mistake under test)
        return X, caches

    def fine(X, parameters, keep_prob=1.0):
        return X, []

    assert shared_default(L_model_forward).hint.startswith(
        "Your L_model_forward has a default argument caches=[]")
    assert shared_default(fine) is None


def test_an_unbound_variable_is_named_outside_the_activations_branches():
    err = UnboundLocalError("cannot access local variable 'A' where it is not associated "
                            "with a value")
    assert unbound_hint(err, "L_model_forward").startswith(
        "'A' is read before any line of your L_model_forward set it")
    assert unbound_hint(err, "linear_activation_forward").startswith(
        "A variable was used before any line set it")


def test_a_tuples_missing_list_method_gets_the_tuple_hint():
    try:
        (1, 2).pop()
    except AttributeError as err:
        hint = error_hint(err, "L_model_backward")
    assert hint.startswith("A tuple cannot be changed, and your function calls .pop() on one")
    assert error_hint(AttributeError("no such thing"), "L_model_backward") is None


@pytest.mark.parametrize(("function", "got", "kind", "path", "hint"), [
    ("L_model_backward", "a tuple of 1: (a dict)", "type", ("return",),
     "Your L_model_backward returns a tuple of 1: a comma after the value (return grads,) "
     "makes a tuple. return grads, without it."),
    ("update_parameters", "a tuple of 2: (a dict, a dict)", "type", ("return",),
     "Your update_parameters returns a tuple of 2; the course's returns parameters alone: "
     "return parameters."),
    ("compute_cost", "an array (3,): [0.1, 0.2, 0.3]", "shape", ("return",),
     "compute_cost returns one number, the mean over all m examples: is every term inside "
     "np.sum (check the parentheses), and does the sum take every entry, not one axis?"),
    ("L_model_backward", "a dict with keys dW2, db2, dW1, db1", "keys", ("return",),
     'grads holds each layer\'s dA_prev too (dA1, dA0 missing), as the course\'s: '
     'grads["dA" + str(l)] = dA_prev_temp, beside dW and db.'),
    ("linear_forward", "an np.matrix (1, 2)", "type", ("return", 0),
     "Your linear_forward gives Z as an np.matrix: there * is a matrix product and every row "
     "stays 2-D, so the course's next functions break on it. Keep plain arrays: "
     "np.dot(W, A) + b, or W @ A + b."),
])
def test_a_shape_of_result_that_any_learner_may_return_gets_its_hint(function, got, kind, path,
                                                                      hint):
    found = Difference(path, kind, "the course's", got, "differs",
                       missing=("dA1", "dA0") if kind == "keys" else (),
                       matrix=got.startswith("an np.matrix"))
    assert general_hint(BY_NAME[function], found) == hint


def test_an_argument_read_under_the_courses_name_but_named_otherwise_is_named():
    """`def L_model_forward(X, params)` that reads `parameters`: a NameError (a global of
    that name would hide it in the notebook, not in the check)."""
    def L_model_forward(X, params):
        return parameters  # noqa: F821 (the mistake under test)

    try:
        L_model_forward(1, 2)
    except NameError as err:
        hint = error_hint(err, "L_model_forward")
    assert hint == ("Your L_model_forward reads parameters, which nothing in it defines: does "
                    "its signature name it otherwise? The course's is "
                    "L_model_forward(X, parameters).")



def _raised(call):
    try:
        call()
    except Exception as err:  # the error under test, whichever it is
        return err
    raise AssertionError("it did not raise")


@pytest.mark.parametrize(("call", "start"), [
    (lambda: math.exp(np.ones((2, 3))), "A function of Python's math module"),
    (lambda: math.log(np.ones(3)), "A function of Python's math module"),
    (lambda: max(0, np.array([1.0, -1.0])), "Python's max(0, Z)"),
    (lambda: bool(np.array([1.0, -1.0]) > 0), "Python's max(0, Z)"),
])
def test_an_array_where_python_takes_one_number_is_named(call, start):
    """math.exp(Z) and max(0, Z) had raised with no hint."""
    assert error_hint(_raised(call), "sigmoid").startswith(start)


def _update_with_rate(rate):
    def update_parameters(parameters, grads, learning_rate):
        return {k: p - rate * grads[f"d{k}"] for k, p in parameters.items()}
    return update_parameters


@pytest.mark.parametrize(("rate", "named"), [(0.0075, True), (0.1, False), (-0.1, False)])
def test_a_learning_rate_set_inside_the_update_is_named(rate, named):
    """`learning_rate = 0.0075` inside update_parameters had failed with no hint; the right
    rate, or one that adds (a mutation names that), is not this mistake."""
    spec, case = BY_NAME["update_parameters"], CASES["update_parameters"][0]  # rate 0.1
    got = observe(_update_with_rate(rate), spec, case)
    found = other_step_size(spec, case, got)
    assert (found is not None) == named
    if named:
        assert found.hint.startswith("Your update_parameters moves W1 by 0.0075 × dW1, where "
                                     "the learning_rate it is given is 0.1")
