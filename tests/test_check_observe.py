"""Tests for engine.check.observe: calling a function on a case, quietly and seeded."""

import numpy as np
import pytest

from engine.check.cases import Case
from engine.check.course_functions import BY_NAME
from engine.check.observe import MISSING, Observation, observe, quiet, seeded, value_at


def test_quiet_swallows_prints_and_warnings(capsys, recwarn):
    with quiet():
        print("x" * 10**6)
        np.log(np.zeros(1))
        import warnings
        warnings.warn("from the learner", stacklevel=1)
    assert capsys.readouterr() == ("", "")
    assert len(recwarn) == 0


def test_seeded_draws_after_3_whatever_the_function_seeds():
    np.random.seed(3)
    expected = np.random.randn(2)
    with seeded(True):
        np.random.seed(1)  # the course's initialize_parameters seeds itself with 1
        got = np.random.randn(2)
    np.testing.assert_array_equal(got, expected)
    np.random.seed(1)  # and seeding works again afterwards
    np.testing.assert_array_equal(np.random.randn(1), [1.6243453636632417])


def test_an_observation_keeps_the_inputs_afterwards():
    def relu_backward(dA, Z):
        dA[Z <= 0] = 0
        return dA

    dA, Z = np.array([[1.0, 2.0]]), np.array([[-1.0, 1.0]])
    seen = observe(relu_backward, BY_NAME["relu_backward"], Case("x", lambda: (dA.copy(), Z)))
    np.testing.assert_array_equal(seen.inputs[0], [[0.0, 2.0]])


def test_update_parameters_may_change_its_inputs():
    seen = observe(lambda p, g, lr: p, BY_NAME["update_parameters"],
                   Case("x", lambda: ({}, {}, 0.1)))
    assert seen.inputs is None


@pytest.mark.parametrize(("path", "expected"), [
    (("return", 1, 0), "A_prev"),
    (("return", 1, 5), MISSING),
    (("return", "dW1"), MISSING),
    (("input", 0), "dZ"),
])
def test_value_at(path, expected):
    seen = Observation(("Z", ("A_prev", "W", "b")), ("dZ",))
    assert value_at(seen, path) == expected
