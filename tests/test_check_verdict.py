"""Tests for engine.check.verdict: each learner function checked alone, in this process."""

import linecache

import numpy as np
import pytest

from engine import course
from engine.check import backward_mistakes as back
from engine.check.cases import CASES
from engine.check.course_functions import BY_NAME, NAMES
from engine.check.verdict import alone, check_function, check_namespace, learner_functions

GOOD = '''
import numpy as np

def linear_forward(A, W, b):
    return np.dot(W, A) + b, (A, W, b)

def linear_activation_forward(A_prev, W, b, activation):
    Z, linear_cache = linear_forward(A_prev, W, b)
    A, activation_cache = sigmoid(Z) if activation == "sigmoid" else relu(Z)
    return A, [linear_cache, activation_cache]  # a list where the course has a tuple

def L_model_forward(X, parameters):
    caches, A, L = [], X, len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters["W" + str(l)],
                                             parameters["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)],
                                          parameters["b" + str(L)], "sigmoid")
    return AL, caches + [cache]

def initialize_parameters(n_x, n_h, n_y):
    np.random.seed(1)  # as the course's template does
    return {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}

def update_parameters(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for l in range(1, L + 1):  # in place, as the course's first version did
        parameters["W" + str(l)] -= learning_rate * grads["dW" + str(l)]
        parameters["b" + str(l)] -= learning_rate * grads["db" + str(l)]
    return parameters
'''


def namespace_of(source, **extra):
    """The namespace of a notebook cell that ran this source."""
    namespace = {"__name__": "__main__", **extra}
    # IPython keeps each cell's source where tracebacks look for it
    linecache.cache["mine.py"] = (len(source), None, source.splitlines(True), "mine.py")
    exec(compile(source, "mine.py", "exec"), namespace)
    return namespace


def verdicts(namespace):
    return {r.name: r for r in check_namespace(namespace)}


def test_the_reference_passes_itself():
    results = check_namespace({name: getattr(course, name) for name in NAMES})
    assert [r.status for r in results] == ["pass"] * len(NAMES)


def test_a_learners_functions_pass_and_the_rest_are_missing():
    results = verdicts(namespace_of(GOOD))
    passing = {"linear_forward", "linear_activation_forward", "L_model_forward",
               "initialize_parameters", "update_parameters"}
    assert {n for n, r in results.items() if r.status == "pass"} == passing
    assert {n for n, r in results.items() if r.status == "missing"} == set(NAMES) - passing
    assert results["relu"].detail == "not defined: the engine's own is used where it is needed"
    assert results["compute_cost"].detail == "not defined"


def test_each_function_is_checked_alone_with_the_references_callees():
    """A broken linear_forward fails itself only; the learner's namespace is unchanged."""
    source = GOOD.replace("return np.dot(W, A) + b, (A, W, b)", "return np.dot(W, A), (A, W, b)")
    namespace = namespace_of(source)
    mine = namespace["linear_forward"]
    results = verdicts(namespace)
    assert results["linear_forward"].status == "fail"
    assert results["linear_activation_forward"].status == "pass"
    assert results["L_model_forward"].status == "pass"
    assert namespace["linear_forward"] is mine
    assert alone(mine, "linear_forward").__globals__["linear_activation_forward"] is \
        course.linear_activation_forward


def test_imported_functions_are_not_the_learners():
    namespace = namespace_of("from engine.course import relu\ndef sigmoid(Z):\n    return 0, Z")
    assert set(learner_functions(namespace)) == {"sigmoid"}
    relu = verdicts(namespace)["relu"]
    assert (relu.status, relu.detail) == ("missing", "imported from engine.activations, not "
                                                     "defined here: not checked")


def test_the_learners_random_state_and_output_are_left_alone(capsys):
    namespace = namespace_of(GOOD.replace("    np.random.seed(1)", "    print('hello' * 1000)\n"
                                          "    np.random.seed(1)"))
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    verdicts(namespace)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(("source", "detail", "hint"), [
    ("def relu(Z):\n    return np.maximum(0, Z), Z", "raised NameError: name 'np' is not "
     "defined (line 2: return np.maximum(0, Z), Z), in Z with entries exactly 0",
     "Add `import numpy as np` above your functions."),
    ("import numpy as np\ndef relu(Z):\n    A = np.maximum(0, Z)\n    raise KeyError('A')",
     "raised KeyError: 'A' (line 4: raise KeyError('A')), in Z with entries exactly 0", None),
    ("def relu(Z):\n    import sys\n    sys.exit(1)", "raised SystemExit: 1 (line 3: "
     "sys.exit(1)), in Z with entries exactly 0", "Your function ends the program (exit()); "
     "return its results instead."),
])
def test_a_function_that_raises_is_an_error(source, detail, hint):
    result = verdicts(namespace_of(source))["relu"]
    assert (result.status, result.detail) == ("error", detail)
    assert result.failure.hint == hint
    assert result.failure.expected == "a tuple of 2: (an array (4, 5), an array (4, 5))"


def test_a_changed_input_is_a_failure():
    def linear_backward(dZ, cache):
        dA_prev, dW, db = course.linear_backward(dZ, cache)
        cache[0][:] = 0  # tidies A_prev away, in the caller's cache
        return dA_prev, dW, db

    result = check_function(BY_NAME["linear_backward"], linear_backward)
    assert result.failure.what == "input cache[0]" and result.failure.means == "A_prev"
    assert result.failure.hint.startswith("Your linear_backward changed input cache[0] in "
                                          "place, and that array is the caller's")


def test_dividing_an_argument_in_place_is_named():
    """dZ /= m had failed on "input dZ: different values", as if the input were wrong."""
    def linear_backward(dZ, cache):
        grads = course.linear_backward(dZ.copy(), cache)
        dZ /= cache[0].shape[1]  # right answers, and the caller's dZ divided
        return grads

    failure = check_function(BY_NAME["linear_backward"], linear_backward).failure
    assert failure.what == "input dZ"
    assert "changed input dZ in place" in failure.hint
    assert "dZ = np.array(dZ, copy=True)" in failure.hint


def test_returning_nothing_is_named():
    def update_parameters(parameters, grads, learning_rate):
        course.update_parameters(parameters, grads, learning_rate)  # in place, then no return

    failure = check_function(BY_NAME["update_parameters"], update_parameters).failure
    assert failure.got == "None"
    assert failure.hint == ("Your update_parameters returns None: it has no return statement, "
                            "one without a value, or one that this call does not reach (in an "
                            "if branch that it did not take). End it with return parameters.")


def test_an_array_inside_an_input_changed_in_place_is_not_told_to_copy_the_input():
    """np.array(cache, copy=True) of a tuple of arrays would not run: the hint names the
    array, and says to compute a new one."""
    def linear_backward(dZ, cache):
        result = course.linear_backward(dZ, cache)
        cache[0][0, 0] = 7.0
        return result

    hint = check_function(BY_NAME["linear_backward"], linear_backward).failure.hint
    assert hint.startswith("Your linear_backward changed input cache[0] in place")
    assert "copy=True" not in hint


def test_emptying_the_callers_caches_is_named_with_a_fix_that_runs():
    """The hint had said caches = np.array(caches, copy=True), which raises on a list of
    caches of different shapes."""
    def L_model_backward(AL, Y, caches):
        caches = caches if isinstance(caches, list) else list(caches)
        grads = course.L_model_backward(AL, Y, list(caches))
        caches.clear()  # the course's deep cases pass a list: the caller's
        return grads

    failure = check_function(BY_NAME["L_model_backward"], L_model_backward).failure
    assert failure.what == "input caches"
    assert failure.hint.startswith("Your L_model_backward changed caches itself")
    assert "caches = list(caches)" in failure.hint


def test_a_list_default_that_every_call_grows_is_named():
    """Each call's results are kept as they were (observe.kept): the first case is right,
    and the second holds the first's caches too."""
    def L_model_forward(X, parameters, caches=[]):  # noqa: B006 (the mistake under test)
        AL, mine = course.L_model_forward(X, parameters)
        caches.extend(mine)
        return AL, caches

    result = check_function(BY_NAME["L_model_forward"], L_model_forward)
    assert result.failure.case != CASES["L_model_forward"][0].label
    assert result.failure.mistake == "shared_default"
    assert result.failure.hint.startswith("Your L_model_forward has a default argument "
                                          "caches=[]")


def test_grads_are_compared_in_the_order_backward_computes_them():
    """A wrong dAL shows first where it is made, at layer L, not in dW1."""
    result = check_function(BY_NAME["L_model_backward"], back.dAL_sign_flipped)
    assert (result.failure.what, result.failure.layer) == ('grads["dA1"]', 2)


@pytest.mark.parametrize(("source", "detail", "hint"), [
    # X where A should be: the error is raised inside the course's function, on what the
    # learner's line gave it, as the known mistake of a loop that gives every layer X
    (GOOD.replace("        A, cache = linear_activation_forward(A, ", "        A, cache = "
                  "linear_activation_forward(X, "),
     "in the course's linear_activation_forward, given A_prev of shape (5, 4), W of shape "
     "(3, 4), b of shape (3, 1), activation = 'relu'), in the course's test case (3 layers)",
     "Each layer takes the A the layer before returned: A, cache = linear_activation_forward("
     "A, …); yours gives every layer X (passed as X, or the result kept under another name)."),
    # a wrong shape that no known mistake raises: what the course's function was given
    (GOOD.replace('(A, parameters["W" + str(L)],', '(A, parameters["W" + str(L)].T,'),
     "", "It stopped inside the course's linear_activation_forward, which your line called: "
     "check the shapes of what you pass it."),
    # a KeyError that a known mistake raises too names it
    (GOOD.replace("caches, A, L = [], X, len(parameters) // 2",
                  "caches, A, L = [], X, len(parameters)"),
     "raised KeyError: 'W4' (line 15: A, cache = linear_activation_forward(A, parameters[\"W\" + "
     "str(l)],), in the course's test case (3 layers)",
     "L = len(parameters) // 2: parameters holds a W and a b per layer."),
])
def test_an_error_says_where_and_what_was_passed(source, detail, hint):
    result = verdicts(namespace_of(source))["L_model_forward"]
    assert result.status == "error"
    assert result.detail.endswith(detail)
    assert result.failure.hint == hint


def test_an_activation_the_course_does_not_name_gets_a_hint_not_a_shapes_one():
    """activation="ReLU" stops inside the course's linear_activation_forward: the hint
    had said to check the shapes."""
    source = GOOD.replace('parameters["b" + str(l)], "relu")', 'parameters["b" + str(l)], "ReLU")')
    assert source != GOOD
    result = check_function(BY_NAME["L_model_forward"], namespace_of(source)["L_model_forward"])
    assert result.status == "error"
    assert result.failure.hint == ('The course\'s activations are "relu" and "sigmoid", in lower '
                                   "case; 'ReLU' is not one of them.")


ASSERTING = '''import numpy as np

def relu(Z):
    A = np.max(Z, 0)
    assert A.shape == Z.shape
    return A, Z

def linear_forward(A, W, b):
    Z = np.dot(W, A) + b
    assert Z.shape == (W.shape[0], W.shape[1])  # the learner's assert is what is wrong
    return Z, (A, W, b)
'''


def test_behind_a_failing_assert_the_hint_says_what_the_function_does_without_it():
    """The course's templates keep shape asserts: a known mistake that an assert stops was
    an AssertionError with no hint, where the same code without the assert got one."""
    namespace = namespace_of(ASSERTING)
    relu = check_function(BY_NAME["relu"], namespace["relu"])
    assert relu.status == "error" and relu.failure.got == "raised AssertionError"
    assert relu.failure.hint.startswith("Your assert caught a real mistake. Without it, A: "
                                        "shape (")
    assert "ReLU is np.maximum(0, Z), entry by entry" in relu.failure.hint
    linear = check_function(BY_NAME["linear_forward"], namespace["linear_forward"])
    assert linear.status == "error"
    assert linear.failure.hint == ("Without its assert the function gives the course's "
                                   "results: the assert's condition is what is wrong.")


def test_without_its_source_an_assert_keeps_the_plain_error():
    namespace = namespace_of(ASSERTING)
    linecache.cache.pop("mine.py")
    linecache.cache["mine.py"] = (0, None, [], "mine.py")  # no source to compile again
    result = check_function(BY_NAME["relu"], namespace["relu"])
    assert result.status == "error" and result.failure.hint is None


def _returns_Z_only(A, W, b):
    return np.dot(W, A) + b


def _returns_four(dZ, cache):
    return (*course.linear_backward(dZ, cache), dZ)


def _template_left(A, W, b):
    Z = None  # YOUR CODE HERE
    return Z, (A, W, b)


def _not_written(A, W, b):
    raise NotImplementedError("YOUR CODE HERE")


def _returns_words(A, W, b):
    return "Z: not yet"


def _A_never_set(X, parameters):
    caches = []
    for l in range(1, len(parameters) // 2 + 1):
        A_prev = A  # noqa: F821 (the mistake under test: A = X is missing)
        A, cache = course.linear_activation_forward(A_prev, parameters[f"W{l}"],
                                                    parameters[f"b{l}"], "relu")
        caches.append(cache)
    return A, caches


@pytest.mark.parametrize(("name", "function", "hint"), [
    ("linear_forward", _returns_Z_only, "Your linear_forward returns an array (1, 2); the "
                                        "course's returns 2 values: return Z, cache."),
    ("linear_backward", _returns_four, "Your linear_backward returns a tuple of 4; the "
                                       "course's returns 3 values: return dA_prev, dW, db."),
    ("linear_forward", _template_left, "Your linear_forward gives Z = None: is the template's "
                                       "placeholder (… = None) still there? Compute it in its "
                                       "place."),
    ("linear_forward", _not_written, "This function still raises the template's "
                                     "NotImplementedError: write its body in place of that "
                                     "line."),
    # a described value with a colon of its own is named whole
    ("linear_forward", _returns_words, "Your linear_forward returns 'Z: not yet'; the "
                                       "course's returns 2 values: return Z, cache."),
    # read before it is set, in a function without the activation's branches: named
    ("L_model_forward", _A_never_set, "'A' is read before any line of your L_model_forward "
                                      "set it: set it first (A = X before the loop, say), or "
                                      "check the if that should have set it."),
])
def test_shapes_of_mistake_that_any_function_can_make_are_named(name, function, hint):
    assert check_function(BY_NAME[name], function).failure.hint == hint


KEYWORD_CACHE = '''import numpy as np

def relu_backward(dA, cache):  # the course's dnn_utils signature
    dZ = np.array(dA, copy=True)
    dZ[cache <= 0] = 0
    return dZ

def linear_activation_backward(dA, cache, activation):
    linear_cache, activation_cache = cache
    if activation == "relu":
        dZ = relu_backward(dA, cache=activation_cache)
    else:
        dZ = sigmoid_backward(dA, cache=activation_cache)
    return course.linear_backward(dZ, linear_cache)
'''


def test_a_helper_called_by_dnn_utils_keyword_cache_passes():
    """dnn_utils' helpers take (dA, cache): the engine's own had (dA, Z), so a correct
    call by keyword raised 'unexpected keyword argument cache'."""
    verdict = verdicts(namespace_of(KEYWORD_CACHE, course=course))
    assert verdict["linear_activation_backward"].status == "pass"
    assert verdict["relu_backward"].status == "pass"


DISPATCH = '''import functools
import numpy as np

def relu(Z):
    A = np.maximum(0, Z)
    return A, A  # the one mistake: caches A

FORWARD = {"relu": relu, "sigmoid": lambda Z: (1 / (1 + np.exp(-Z)), Z)}
BY_INDEX = (relu, FORWARD["sigmoid"])

def linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b
    A, activation_cache = BY_INDEX[activation == "sigmoid"](Z) if TUPLE else FORWARD[activation](Z)
    return A, ((A_prev, W, b), activation_cache)

hidden = functools.partial(linear_activation_forward, activation="relu")

def L_model_forward(X, parameters):
    caches, A, L = [], X, len(parameters) // 2
    for l in range(1, L):
        A, cache = hidden(A, parameters["W" + str(l)], parameters["b" + str(l)])
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)],
                                          parameters["b" + str(L)], "sigmoid")
    return AL, caches + [cache]
'''


@pytest.mark.parametrize("by_tuple", [False, True])
def test_a_mistake_reached_through_a_dispatch_table_or_a_partial_fails_alone(by_tuple):
    """Each verdict stands on its own: a function that calls relu through a top-level dict
    or tuple, or linear_activation_forward through a functools.partial, calls the
    reference's."""
    verdict = verdicts(namespace_of(f"TUPLE = {by_tuple}\n" + DISPATCH))
    assert verdict["relu"].status == "fail"
    assert verdict["linear_activation_forward"].status == "pass"
    assert verdict["L_model_forward"].status == "pass"


# relu's one mistake (it caches A), reached by linear_activation_forward in each way a
# learner writes it: (the way, the code that picks the activation function)
RELU_CACHES_A = '''import numpy as np

def relu(Z):
    A = np.maximum(0, Z)
    return A, A

def sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z
'''
REACHED = [
    ("a helper that returns it from a dict",
     "def _act(name):\n    return {'relu': relu, 'sigmoid': sigmoid}[name]\n", "_act(activation)"),
    ("a helper that calls it",
     "def _apply(Z, name):\n    if name == 'relu':\n        return relu(Z)\n"
     "    return sigmoid(Z)\n", "(lambda Z: _apply(Z, activation))"),
    ("a helper of a helper",
     "def _pick(name):\n    return relu if name == 'relu' else sigmoid\n"
     "def _act(name):\n    return _pick(name)\n", "_act(activation)"),
]


@pytest.mark.parametrize(("way", "helper", "picked"), REACHED, ids=[w for w, *_ in REACHED])
def test_a_mistake_reached_through_a_helper_of_the_learners_fails_alone(way, helper, picked):
    """The learner's own helper reads the course functions from their module: it is copied
    to read the reference's too (relu's mistake failed linear_activation_forward)."""
    source = RELU_CACHES_A + helper + f'''
def linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b
    A, activation_cache = {picked}(Z)
    return A, ((A_prev, W, b), activation_cache)
'''
    namespace = namespace_of(source)
    verdict = verdicts(namespace)
    assert verdict["relu"].status == "fail"
    assert verdict["linear_activation_forward"].status == "pass", verdict[
        "linear_activation_forward"].detail
    assert namespace["relu"].__globals__ is namespace  # the learner's own, unchanged


def test_a_learners_class_is_left_as_it_is():
    """Its instances made at module level stay instances of it while a function is checked
    (a copy of the class had failed isinstance: correct code got ERROR)."""
    namespace = namespace_of('''import numpy as np

class Act:
    def __init__(self, name):
        self.name = name

    @staticmethod
    def relu(Z):
        return np.maximum(0, Z), Z

    def __call__(self, Z):
        return Act.relu(Z) if self.name == "relu" else (1 / (1 + np.exp(-Z)), Z)

RELU, SIGMOID = Act("relu"), Act("sigmoid")

def linear_activation_forward(A_prev, W, b, activation):
    act = RELU if activation == "relu" else SIGMOID
    assert isinstance(act, Act)
    Z = np.dot(W, A_prev) + b
    A, activation_cache = act(Z)
    return A, ((A_prev, W, b), activation_cache)
''')
    assert verdicts(namespace)["linear_activation_forward"].status == "pass"


MISSING_1_OVER_M = '''
def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return np.dot(W.T, dZ), np.dot(dZ, A_prev.T), np.sum(dZ, axis=1, keepdims=True) / m

def linear_activation_backward(dA, cache, activation):
    linear_cache, activation_cache = cache
    dZ = relu_backward(dA, activation_cache) if activation == "relu" else \\
        sigmoid_backward(dA, activation_cache)
    return linear_backward(dZ, linear_cache)
'''
DECORATORS = [
    ("a decorator class", '''class timed:
    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, *args):
        self.calls += 1
        return self.function(*args)
'''),
    ("functools.wraps", '''def timed(function):
    @functools.wraps(function)
    def wrapper(*args):
        return function(*args)
    return wrapper
'''),
]


@pytest.mark.parametrize(("way", "decorator"), DECORATORS, ids=[w for w, _ in DECORATORS])
def test_a_decorated_function_is_checked_and_fails_alone(way, decorator):
    """A decorator class's instance was "imported from __main__, not defined here: not
    checked", and a file of such functions was told it defines none."""
    source = "import functools\nimport numpy as np\n" + decorator + \
        MISSING_1_OVER_M.replace("\ndef ", "\n@timed\ndef ")
    namespace = namespace_of(source)
    assert set(learner_functions(namespace)) >= {"linear_backward", "linear_activation_backward"}
    verdict = verdicts(namespace)
    assert verdict["linear_backward"].status == "fail"
    assert verdict["linear_backward"].failure.what == "dW"
    assert verdict["linear_activation_backward"].status == "pass"


@pytest.mark.parametrize(("way", "decorator"), DECORATORS, ids=[w for w, _ in DECORATORS])
def test_a_decorated_function_that_raises_is_told_its_own_error(way, decorator):
    """A decorator class's function that raised crashed the check (None.__code__)."""
    source = "import functools\nimport numpy as np\n" + decorator + \
        "@timed\ndef linear_forward(A, W, b):\n    return np.dot(W, A.T) + b, (A, W, b)\n"
    verdict = verdicts(namespace_of(source))["linear_forward"]
    assert verdict.status == "error" and "ValueError" in verdict.detail


def test_a_helper_under_a_decorator_class_calls_the_reference_too():
    source = RELU_CACHES_A + DECORATORS[0][1] + '''
@timed
def _act(name):
    return {"relu": relu, "sigmoid": sigmoid}[name]

def linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b
    A, activation_cache = _act(activation)(Z)
    return A, ((A_prev, W, b), activation_cache)
'''
    verdict = verdicts(namespace_of(source))
    assert (verdict["relu"].status, verdict["linear_activation_forward"].status) == \
        ("fail", "pass")


def test_an_lru_cached_function_is_checked_and_its_error_told():
    """functools.lru_cache cannot hash an array: the learner's code raises on every call,
    where the check said "not checked" and "Well done!"."""
    namespace = namespace_of("import functools\nimport numpy as np\n\n@functools.lru_cache\n"
                             "def linear_forward(A, W, b):\n"
                             "    return np.dot(W, A) + b, (A, W, b)\n")
    verdict = verdicts(namespace)["linear_forward"]
    assert verdict.status == "error" and "unhashable type" in verdict.detail


def test_a_difference_on_an_earlier_case_comes_before_an_error_on_a_later_one():
    """The course's own case, which the notebook shows, differs (b of the layer before on
    the output layer: AL of 3 rows); the one-layer case raises (KeyError 'b0'). The
    difference is reported, not the error."""
    source = """
def L_model_forward(X, parameters):
    caches, A, L = [], X, len(parameters) // 2
    l = 0
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters["W" + str(l)],
                                             parameters["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(l + 1)],
                                          parameters["b" + str(l)], "sigmoid")
    caches.append(cache)
    return AL, caches
"""
    result = verdicts(namespace_of(source))["L_model_forward"]
    assert result.status == "fail"
    assert (result.failure.what, result.failure.differs) == ("AL", "shape")
    assert result.failure.case == CASES["L_model_forward"][0].label
