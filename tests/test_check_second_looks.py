"""Tests for engine.check.second_looks: an init function's own seeds and generator, and a
function called again on other values of its first case's shapes."""

import numpy as np
import pytest

from engine import course
from engine.check.cases import CASES
from engine.check.course_functions import BY_NAME
from engine.check.observe import observe
from engine.check.second_looks import called_again, own_generator, seed_note, squared
from engine.check.verdict import alone, check_function
from tests.test_check_verdict import namespace_of

DEEP_INIT = '''import numpy as np

def initialize_parameters_deep(layer_dims):
    {seed_line}
    parameters = {{}}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = {draw}(layer_dims[l], layer_dims[l - 1]) * 0.01
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
'''


def deep_init(seed_line, draw="np.random.randn"):
    namespace = namespace_of(DEEP_INIT.format(seed_line=seed_line, draw=draw))
    return namespace["initialize_parameters_deep"]


@pytest.mark.parametrize(("seed_line", "note"), [
    ("np.random.seed(3)", None),
    ("np.random.seed(1)", "note: it sets np.random.seed(1), where the course's sets "
                          "np.random.seed(3) first"),
    ("", "note: it sets no seed, where the course's sets np.random.seed(3) first"),
])
def test_an_init_that_does_not_set_the_courses_seed_passes_with_a_note(seed_line, note):
    """The check seeds for everyone, so such a function passes; the notebook's own test
    would not, and a learner was told 'Well done!' without a word."""
    namespace = namespace_of(f'''import numpy as np

def initialize_parameters_deep(layer_dims):
    {seed_line}
    parameters = {{}}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
''')
    result = check_function(BY_NAME["initialize_parameters_deep"],
                            namespace["initialize_parameters_deep"])
    assert result.status == "pass"
    assert (note in result.detail) if note else ("note" not in result.detail)


@pytest.mark.parametrize(("name", "body"), [
    ("initialize_parameters_deep", '''def initialize_parameters_deep(layer_dims):
    parameters = {}
    for l in range(1, len(layer_dims)):
        np.random.seed(3)  # moved into the loop
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
'''),
    ("initialize_parameters", '''def initialize_parameters(n_x, n_h, n_y):
    np.random.seed(1)
    W1 = np.random.randn(n_h, n_x) * 0.01
    np.random.seed(1)
    W2 = np.random.randn(n_y, n_h) * 0.01
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}
'''),
])
def test_an_init_that_seeds_again_inside_its_loop_fails(name, body):
    """The check makes a function's own seeds no-ops, so an init that seeds in its loop
    passed ("Well done!") while the notebook's test fails: each seed restarts the draws.
    With its seeds honoured, as the notebook runs it, W2 differs from the course's."""
    result = check_function(BY_NAME[name], namespace_of("import numpy as np\n\n" + body)[name])
    assert result.status == "fail"
    assert result.failure.what == 'parameters["W2"]'
    assert "sets np.random.seed more than once in one call" in result.failure.hint
    assert "W1's numbers" in result.failure.hint


@pytest.mark.parametrize(("seed_line", "own", "note"), [
    # seeded as the course's deep init seeds: the notebook's test shows these numbers
    ("rng = np.random.RandomState(3)", True, "they are the course's after np.random.seed(3), "
                                             "as the notebook's test shows them"),
    # seeded otherwise: the check's seed cannot reach it, nor does it match the notebook
    ("rng = np.random.RandomState(5)", False, None),
])
def test_a_generator_of_its_own_is_told_apart_by_its_seed(seed_line, own, note):
    function = deep_init(seed_line, draw="rng.randn")
    spec, cases = BY_NAME["initialize_parameters_deep"], CASES["initialize_parameters_deep"]
    learner = alone(function, spec.name)
    assert own_generator(spec, learner, cases) is own
    result = check_function(spec, function)
    if own:
        assert result.status == "pass" and note in result.detail
        assert seed_note(spec, learner, cases, []).endswith(note)
    else:
        assert result.status == "fail" and result.failure.what == 'parameters["W1"]'


def test_squared_keeps_every_shape_type_and_label():
    value = {"AL": np.array([[0.5, 0.25]]), "Y": np.array([[1.0, 0.0]]),
             "caches": [(np.full((2, 3), -2.0), 4), "relu"]}
    again = squared(value)
    np.testing.assert_array_equal(again["AL"], [[0.25, 0.0625]])
    np.testing.assert_array_equal(again["Y"], value["Y"])  # 0/1 labels stay labels
    assert type(again["caches"]) is list and type(again["caches"][0]) is tuple
    np.testing.assert_array_equal(again["caches"][0][0], np.full((2, 3), 4.0))
    assert again["caches"][0][1:] == (4,) and again["caches"][1] == "relu"


def _stored_by_shape():
    stored = {}

    def relu(Z):
        if Z.shape not in stored:
            stored[Z.shape] = np.maximum(0, Z)
        return stored[Z.shape], Z
    return relu


@pytest.mark.parametrize(("function", "mistake"), [
    (course.relu, None),  # computes from its arguments: no second look fails it
    (_stored_by_shape(), "stored_result"),
])
def test_called_again_on_other_values_finds_a_stored_result(function, mistake):
    spec, case = BY_NAME["relu"], CASES["relu"][0]
    first = observe(function, spec, case)
    result = called_again(spec, function, function, case, first)
    if mistake is None:
        assert result is None
    else:
        assert (result.status, result.failure.mistake) == ("fail", mistake)
        assert result.failure.case.endswith("called again with each array x as x²")
