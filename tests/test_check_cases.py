"""Tests for engine.check.cases: the inputs each course function is checked on."""

import numpy as np
import pytest

from engine import course
from engine.check.cases import CASES
from engine.check.course_functions import NAMES


def case(name, label_start):
    return next(c for c in CASES[name] if c.label.startswith(label_start))


# the notebook's published results (as in tests/test_course.py), from the course's cases
@pytest.mark.parametrize(("name", "label", "pick", "expected"), [
    ("linear_forward", "the course's", lambda r: r[0], [[3.26295337, -1.23429987]]),
    ("linear_activation_forward", "the course's test case, activation=\"sigmoid\"",
     lambda r: r[0], [[0.96890023, 0.11013289]]),
    ("linear_activation_forward", "the course's test case, activation=\"relu\"",
     lambda r: r[0], [[3.43896131, 0.0]]),
    ("L_model_forward", "the course's", lambda r: r[0],
     [[0.03921668, 0.70498921, 0.19734387, 0.04728177]]),
    ("compute_cost", "the course's", lambda r: r, 0.2797765635793422),
    ("linear_backward", "the course's", lambda r: r[2],
     [[-0.14713786], [-0.11313155], [-0.13209101]]),
    ("linear_activation_backward", "the course's test case, activation=\"relu\"",
     lambda r: r[1], [[0.44513824, 0.37371418, -0.10478989]]),
    ("L_model_backward", "the course's", lambda r: r["db1"], [[-0.22007063], [0], [-0.02835349]]),
    ("update_parameters", "the course's", lambda r: r["W2"], [[-0.55569196, 0.0354055,
                                                                1.32964895]]),
])
def test_the_courses_cases_give_its_published_numbers(name, label, pick, expected):
    result = getattr(course, name)(*case(name, label).make())
    np.testing.assert_allclose(pick(result), expected, atol=5e-9)


@pytest.mark.parametrize("name", NAMES)
def test_every_function_has_several_cases(name):
    labels = [c.label for c in CASES[name]]
    assert len(labels) >= 3 and len(set(labels)) == len(labels)
    if not name.startswith("initialize") and name != "update_parameters":
        assert any("m = 1" in label for label in labels)
        assert any("wide batch" in label for label in labels)


@pytest.mark.parametrize("name", ["L_model_forward", "L_model_backward",
                                  "initialize_parameters_deep"])
def test_the_whole_net_functions_see_a_deep_net(name):
    assert any("deep net" in c.label for c in CASES[name])


@pytest.mark.parametrize("name", NAMES)
def test_every_case_makes_fresh_arrays_and_leaves_the_global_random_state(name):
    state = np.random.get_state()[1].copy()
    for c in CASES[name]:
        first, second = c.make(), c.make()
        assert repr(first) == repr(second)  # the same numbers...
        arrays = [a for a in first if isinstance(a, np.ndarray)]
        assert all(a is not b for a, b in zip(arrays, second, strict=False))  # ...new arrays
    np.testing.assert_array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize(("name", "Z_of"), [
    ("relu_backward", lambda args: args[1]),
    ("relu", lambda args: args[0]),
    ("linear_activation_backward", lambda args: args[1][1] if args[2] == "relu" else None),
    ("L_model_backward", lambda args: args[2][0][1]),  # the first hidden layer's Z
])
def test_relus_cases_hold_entries_of_Z_that_are_exactly_0(name, Z_of):
    """Where Z > 0 and Z >= 0 part: a shifted ReLU mask shows only there."""
    zeros = [np.sum(Z == 0) for c in CASES[name] if (Z := Z_of(c.make())) is not None]
    assert max(zeros) > 0
