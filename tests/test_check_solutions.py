"""`check` end to end on learners' files: a correct solution as a .py and as a course-style
notebook, and each classic mistake as a one-line change of the .py.

Every file is checked by one child process (engine.check.check_files), as a learner's file
is by `backprop-lens check`; each test then reads its report.
"""

import json
from pathlib import Path

import pytest

from engine.check import Limits, check_files
from engine.check.mistake_hints import MISTAKES

SOLUTIONS = Path(__file__).resolve().parent / "check_solutions"
SOLUTION = (SOLUTIONS / "solution.py").read_text()
NOTEBOOK = (SOLUTIONS / "solution.ipynb").read_text()
HINTS = {(m.function, m.name): m.hint for m in MISTAKES}

# id: (the line as the solution has it, the line with the mistake, the function named
# first, `what`, the recognised mistake). Each is one line of solution.py, changed.
VARIANTS = {
    "linear_cache holds Z": ("    cache = (A, W, b)", "    cache = (Z, W, b)",
                             "linear_forward", "cache[0]", "linear_cache_holds_Z"),
    "activation_cache holds A": ("    cache = (linear_cache, activation_cache)",
                                 "    cache = (linear_cache, A)", "linear_activation_forward",
                                 "cache[1]", "activation_cache_holds_A"),
    "sigmoid caches A": ("    A = 1 / (1 + np.exp(-Z))\n    cache = Z",
                         "    A = 1 / (1 + np.exp(-Z))\n    cache = A", "sigmoid", "cache",
                         "sigmoid_caches_A"),
    "relu caches A": ("    A = np.maximum(0, Z)\n    cache = Z", "    A = np.maximum(0, Z)\n"
                      "    cache = A", "relu", "cache", "relu_caches_A"),
    "sigmoid without the minus": ("    A = 1 / (1 + np.exp(-Z))", "    A = 1 / (1 + np.exp(Z))",
                                  "sigmoid", "A", "sigmoid_without_minus"),
    "dW without 1/m": ("    dW = 1 / m * np.dot(dZ, A_prev.T)", "    dW = np.dot(dZ, A_prev.T)",
                       "linear_backward", "dW", "dW_without_1_over_m"),
    "db without 1/m": ("    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)",
                       "    db = np.sum(dZ, axis=1, keepdims=True)", "linear_backward", "db",
                       "db_without_1_over_m"),
    "dW with 1/m twice": ("    dW = 1 / m * np.dot(dZ, A_prev.T)",
                          "    dW = 1 / m * np.dot(dZ, A_prev.T) / m", "linear_backward", "dW",
                          "dW_with_1_over_m_twice"),
    "dA_prev with 1/m": ("    dA_prev = np.dot(W.T, dZ)", "    dA_prev = 1 / m * np.dot(W.T, dZ)",
                         "linear_backward", "dA_prev", "dA_prev_with_1_over_m"),
    "keepdims forgotten": ("np.sum(dZ, axis=1, keepdims=True)", "np.sum(dZ, axis=1)",
                           "linear_backward", "db", "db_without_keepdims"),
    "db summed over every entry": ("np.sum(dZ, axis=1, keepdims=True)", "np.sum(dZ)",
                                   "linear_backward", "db", "db_summed_over_everything"),
    "db summed over the units": ("np.sum(dZ, axis=1, keepdims=True)",
                                 "np.sum(dZ, axis=0, keepdims=True)", "linear_backward", "db",
                                 "db_summed_over_units"),
    "linear_backward given the activation cache": (
        "        dZ = relu_backward(dA, activation_cache)\n"
        "        dA_prev, dW, db = linear_backward(dZ, linear_cache)",
        "        dZ = relu_backward(dA, activation_cache)\n"
        "        dA_prev, dW, db = linear_backward(dZ, activation_cache)",
        "linear_activation_backward", "the call", "layer_linear_backward_of_activation_cache"),
    "the activation's backward given the linear cache": (
        "        dZ = relu_backward(dA, activation_cache)",
        "        dZ = relu_backward(dA, linear_cache)",
        "linear_activation_backward", "the call", "layer_activation_backward_of_linear_cache"),
    "the sign of dAL": ("    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))",
                        "    dAL = np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)",
                        "L_model_backward", 'grads["dA1"]', "dAL_sign_flipped"),
    "+ in the update": ('parameters["W" + str(l + 1)] - \\', 'parameters["W" + str(l + 1)] + \\',
                        "update_parameters", 'parameters["W1"]', "update_adds"),
    "ReLU mask inverted": ("    dZ[Z <= 0] = 0", "    dZ[Z > 0] = 0", "relu_backward", "dZ",
                           "relu_mask_inverted"),
    "ReLU mask shifted": ("    dZ[Z <= 0] = 0", "    dZ[Z < 0] = 0", "relu_backward", "dZ",
                          "relu_mask_keeps_0"),
    "dA changed in place": ("    dZ = np.array(dA, copy=True)", "    dZ = dA", "relu_backward",
                            "input dA", "relu_backward_in_place"),
    "hidden layers sigmoid": ('parameters["b" + str(l)], activation="relu")',
                              'parameters["b" + str(l)], activation="sigmoid")',
                              "L_model_forward", "AL", "hidden_layers_sigmoid"),
    "output cache missing": ("    caches.append(cache)\n    return AL, caches",
                             "    return AL, caches", "L_model_forward", "caches",
                             "output_cache_missing"),
    "init without x 0.01": ("np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01",
                            "np.random.randn(layer_dims[l], layer_dims[l - 1])",
                            "initialize_parameters_deep", 'parameters["W1"]', "init_not_scaled"),
    "init x 0.1": ("np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01",
                   "np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.1",
                   "initialize_parameters_deep", 'parameters["W1"]', "init_scaled_by_0_1"),
    "init over sqrt(n)": ("np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01",
                          "np.random.randn(layer_dims[l], layer_dims[l - 1]) / "
                          "np.sqrt(layer_dims[l - 1])", "initialize_parameters_deep",
                          'parameters["W1"]', "init_over_sqrt_n"),
    "2-layer init without x 0.01": ("W1 = np.random.randn(n_h, n_x) * 0.01",
                                    "W1 = np.random.randn(n_h, n_x)", "initialize_parameters",
                                    'parameters["W1"]', "init_not_scaled"),
    "output layer's backward relu": ('linear_activation_backward(dAL, current_cache, "sigmoid")',
                                     'linear_activation_backward(dAL, current_cache, "relu")',
                                     "L_model_backward", 'grads["dA1"]', "output_backward_relu"),
    "Y against AL transposed": ("np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))",
                                "np.sum(Y * np.log(AL).T + (1 - Y) * np.log(1 - AL).T)",
                                "compute_cost", "cost", "cost_broadcast_to_m_by_m"),
    "cost without 1/m": ("    cost = -1 / m * np.sum(", "    cost = -np.sum(", "compute_cost",
                         "cost", "cost_without_1_over_m"),
    "m = len(Y)": ("    m = Y.shape[1]", "    m = len(Y)", "compute_cost", "cost",
                   "cost_without_1_over_m"),
    "m = Y.shape[0]": ("    m = Y.shape[1]", "    m = Y.shape[0]", "compute_cost", "cost",
                       "cost_without_1_over_m"),
    "cost of shape (1,)": ("(1 - Y) * np.log(1 - AL))\n    cost = np.squeeze(cost)",
                           "(1 - Y) * np.log(1 - AL), axis=1)", "compute_cost", "cost",
                           "cost_of_shape_1"),
    "L = len(parameters) in L_model_forward": ("    L = len(parameters) // 2\n    for l in "
                                               "range(1, L):", "    L = len(parameters)\n    "
                                               "for l in range(1, L):", "L_model_forward",
                                               "the call", "forward_L_is_len_parameters"),
    "L = len(parameters) in update_parameters": ("    L = len(parameters) // 2\n    for l in "
                                                 "range(L):", "    L = len(parameters)\n    "
                                                 "for l in range(L):", "update_parameters",
                                                 "the call", "update_L_is_len_parameters"),
    "dAL kept in grads": ('    grads["dA" + str(L - 1)] = dA_prev_temp',
                          '    grads["dA" + str(L)] = dAL\n    grads["dA" + str(L - 1)] = '
                          "dA_prev_temp", "L_model_backward", "grads", "dAL_kept_in_grads"),
    "Z in linear_cache too": ("    cache = (A, W, b)", "    cache = (A, W, b, Z)",
                              "linear_forward", "cache", "linear_cache_with_Z"),
    # linear_backward written out in linear_activation_backward's relu branch
    "inlined backward without 1/m": (
        "        dA_prev, dW, db = linear_backward(dZ, linear_cache)",
        "        A_prev, W, b = linear_cache\n        dW = np.dot(dZ, A_prev.T)\n"
        "        db = np.sum(dZ, axis=1, keepdims=True)\n        dA_prev = np.dot(W.T, dZ)",
        "linear_activation_backward", "dW", "layer_dW_db_without_1_over_m"),  # both lack it
    "inlined backward without keepdims": (
        "        dA_prev, dW, db = linear_backward(dZ, linear_cache)",
        "        A_prev, W, b = linear_cache\n        m = A_prev.shape[1]\n"
        "        dW = np.dot(dZ, A_prev.T) / m\n        db = np.sum(dZ, axis=1) / m\n"
        "        dA_prev = np.dot(W.T, dZ)", "linear_activation_backward", "db",
        "layer_db_without_keepdims"),
}
UPDATE = "def update_parameters(parameters, grads, learning_rate):"
SPECIAL = {
    "misspelled": SOLUTION.replace("def L_model_forward(", "def L_model_foward("),
    "empty": "",
    "raises": SOLUTION.replace("    m = A_prev.shape[1]\n",
                               "    m = A_prev.shape[1]\n    raise ValueError('not yet')\n"),
    # a default argument that names a constant of the file, or that needs a call
    "default from a constant": SOLUTION.replace(UPDATE, "LR = 0.0075\n\n\n" + UPDATE.replace(
        "learning_rate)", "learning_rate=LR)")),
    "default from a call": SOLUTION.replace(UPDATE, UPDATE.replace(
        "learning_rate)", "learning_rate=rate())")),
    # course functions written as a lambda or an alias are checked too (they had been
    # 'missing', and the file 'Well done!')
    "lambda": SOLUTION.replace("def sigmoid(Z):\n    A = 1 / (1 + np.exp(-Z))\n    cache = Z\n"
                               "    return A, cache\n",
                               "sigmoid = lambda Z: (1 / (1 + np.exp(Z)), Z)\n"),
    "alias": SOLUTION.replace("def linear_backward(", "def my_linear_backward(").replace(
        "    dW = 1 / m * np.dot(dZ, A_prev.T)", "    dW = np.dot(dZ, A_prev.T)")
    + "\n\nlinear_backward = my_linear_backward\n",
    # another name for a skipped import's function: missing, as the import alone leaves it
    "alias of a skipped import": SOLUTION.replace(
        "def relu_backward(dA, cache):\n    Z = cache\n    dZ = np.array(dA, copy=True)\n"
        "    dZ[Z <= 0] = 0\n    return dZ\n",
        "from dnn_utils import relu_backward as rb\nrelu_backward = rb\n"),
    # mistakes that no mutation makes, with a hint of their own
    "shared default": SOLUTION.replace("def L_model_forward(X, parameters):\n    caches = []\n",
                                       "def L_model_forward(X, parameters, caches=[]):\n"),
    "caches popped": SOLUTION.replace("    current_cache = caches[L - 1]",
                                      "    current_cache = caches.pop()"),
    "returned out of order": SOLUTION.replace("    return dA_prev, dW, db\n",
                                              "    return dW, db, dA_prev\n", 1),
    "activation in capitals": SOLUTION.replace('    if activation == "sigmoid":',
                                               '    if activation == "Sigmoid":', 1),
    # correct styles that use names bound by top-level lines other than def: each had
    # failed with a NameError (a learner's audit)
    "computed constant": SOLUTION.replace(
        "    cost = -1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))",
        "    AL = np.clip(AL, EPS, 1 - EPS)\n"
        "    cost = -1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))")
    + "\n\nEPS = np.finfo(np.float64).tiny\n",
    "named tuple cache": "from collections import namedtuple\n" + SOLUTION.replace(
        "    cache = (A, W, b)\n    return Z, cache",
        "    cache = LinearCache(A, W, b)\n    return Z, cache")
    + "\n\nLinearCache = namedtuple('LinearCache', 'A_prev W b')\n",
    "dispatch dict": SOLUTION.replace(
        '    if activation == "sigmoid":\n        Z, linear_cache = linear_forward(A_prev, W, b)\n'
        '        A, activation_cache = sigmoid(Z)\n    elif activation == "relu":\n'
        '        Z, linear_cache = linear_forward(A_prev, W, b)\n'
        '        A, activation_cache = relu(Z)\n',
        '    Z, linear_cache = linear_forward(A_prev, W, b)\n'
        '    A, activation_cache = FORWARD[activation](Z)\n', 1)
    + '\n\nFORWARD = {"sigmoid": sigmoid, "relu": relu}\n',
    "future annotations and a type alias": "from __future__ import annotations\n\n"
    + SOLUTION.replace("def linear_forward(A, W, b):",
                       "def linear_forward(A: Array, W: Array, b: Array) -> tuple[Array, Cache]:")
    + "\n\nArray = np.ndarray\nCache = tuple[Array, Array, Array]\n",
    # L_model_forward is right, and wrapped; the one mistake is linear_activation_forward's
    "decorated": "import functools\n\n\ndef logged(f):\n    @functools.wraps(f)\n"
    "    def wrapper(*args, **kwargs):\n        return f(*args, **kwargs)\n    return wrapper\n\n"
    + SOLUTION.replace("    cache = (linear_cache, activation_cache)",
                       "    cache = (linear_cache, A)").replace(
        "def L_model_forward(", "@logged\ndef L_model_forward("),
    # the decorator from the learner's own module, beside the file (reports writes it)
    "decorated from a module": "from side_decorators import logged\n\n"
    + SOLUTION.replace("    cache = (linear_cache, activation_cache)",
                       "    cache = (linear_cache, A)").replace(
        "def L_model_forward(", "@logged\ndef L_model_forward("),
    "a class's method": SOLUTION.replace("def linear_backward(", "def unused_backward(")
    + "\n\nclass Backward:\n    @staticmethod\n    def linear_backward(dZ, cache):\n"
    "        A_prev, W, b = cache\n        m = A_prev.shape[1]\n"
    "        dW = np.dot(dZ, A_prev.T)\n"  # the one mistake: no 1/m
    "        db = 1 / m * np.sum(dZ, axis=1, keepdims=True)\n"
    "        dA_prev = np.dot(W.T, dZ)\n        return dA_prev, dW, db\n\n\n"
    "linear_backward = Backward.linear_backward\n",
    "np.matrix": SOLUTION.replace("    Z = np.dot(W, A) + b",
                                  "    Z = np.matrix(W) * np.matrix(A) + b"),
    "sorted keys": SOLUTION.replace(
        "    L = len(parameters) // 2\n    for l in range(1, L):\n        A_prev = A\n"
        '        A, cache = linear_activation_forward(A_prev, parameters["W" + str(l)],\n'
        '                                             parameters["b" + str(l)], activation="relu")',
        '    L = len(parameters) // 2\n    keys = sorted(k for k in parameters if k[0] == "W")\n'
        "    for key in keys[:-1]:\n        A_prev = A\n"
        '        A, cache = linear_activation_forward(\n'
        '            A_prev, parameters[key], parameters["b" + key[1:]], activation="relu")'),
    "b not updated": SOLUTION.replace(
        '        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - \\\n'
        '            learning_rate * grads["db" + str(l + 1)]\n', ""),
    "a tuple of 1": SOLUTION.replace("    return grads\n", "    return grads,\n"),
    # relu keeps its first result for each shape: every case has shapes of its own
    "a result stored by shape": SOLUTION.replace(
        "def relu(Z):\n    A = np.maximum(0, Z)",
        "STORED = {}\n\n\ndef relu(Z):\n    if Z.shape not in STORED:\n"
        "        STORED[Z.shape] = np.maximum(0, Z)\n    A = STORED[Z.shape]"),
    # the course's numbers from a generator of its own, which np.random.seed does not reach
    "its own generator": SOLUTION.replace(
        "    np.random.seed(1)\n    W1 = np.random.randn(n_h, n_x) * 0.01\n"
        "    b1 = np.zeros((n_h, 1))\n    W2 = np.random.randn(n_y, n_h) * 0.01",
        "    rng = np.random.RandomState(1)\n    W1 = rng.randn(n_h, n_x) * 0.01\n"
        "    b1 = np.zeros((n_h, 1))\n    W2 = rng.randn(n_y, n_h) * 0.01"),
    # ...in the deep init too, seeded 3 as the course's: the notebook shows these numbers
    "its own generator in the deep init": SOLUTION.replace(
        "    np.random.seed(3)\n    parameters = {}", "    rng = np.random.RandomState(3)\n"
        "    parameters = {}").replace(
        "np.random.randn(layer_dims[l], layer_dims[l - 1])", "rng.randn(layer_dims[l], "
        "layer_dims[l - 1])"),
    # m fixed at 4: the course's case has m = 4, and the next one's A_prev has 4 rows
    "m a constant of the file": SOLUTION.replace("    m = A_prev.shape[1]\n    dW = 1 / m",
                                                 "    dW = 1 / m") + "\n\nm = 4\n",
    # the method of an instance that a call makes, which the check does not run
    "an instance's method": SOLUTION.replace("def linear_backward(", "def unused_backward(")
    + "\n\nclass Backward:\n    def linear_backward(self, dZ, cache):\n"
    "        return unused_backward(dZ, cache)\n\n\n"
    "backward = Backward()\nlinear_backward = backward.linear_backward\n",
}


def variant(old: str, new: str) -> str:
    assert SOLUTION.count(old) >= 1, old
    return SOLUTION.replace(old, new, 1)


def notebook_variant(old: str, new: str) -> str:
    cells = json.loads(NOTEBOOK)
    for cell in cells["cells"]:
        cell["source"] = "".join(cell["source"]).replace(old, new)
    return json.dumps(cells)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Every file's report, from one child process."""
    folder = tmp_path_factory.mktemp("solutions")
    (folder / "side_decorators.py").write_text(
        "import functools\n\n\ndef logged(f):\n    @functools.wraps(f)\n"
        "    def wrapper(*args, **kwargs):\n        return f(*args, **kwargs)\n"
        "    return wrapper\n")
    files = {"correct .py": SOLUTIONS / "solution.py",
             "correct .ipynb": SOLUTIONS / "solution.ipynb"}
    texts = {name: variant(*row[:2]) for name, row in VARIANTS.items()} | SPECIAL
    texts["notebook raises"] = notebook_variant("dW = 1 / m * np.dot(dZ, A_prev.T)",
                                                "dW = 1 / m * np.dot(dZ, A_prev)")
    texts["notebook with a graded cell that does not parse"] = notebook_variant(
        "dW = 1 / m * np.dot(dZ, A_prev.T)", "dW = 1 / m * np.dot(dZ, A_prev.T")
    for number, (name, text) in enumerate(texts.items()):
        suffix = ".ipynb" if name.startswith("notebook") else ".py"
        files[name] = folder / f"variant{number}{suffix}"
        files[name].write_text(text)
    return dict(zip(files, check_files(list(files.values()), limits=Limits(seconds=5)),
                    strict=True))


@pytest.mark.parametrize("name", ["correct .py", "correct .ipynb"])
def test_a_correct_solution_passes(reports, name):
    report = reports[name]
    assert report.exit_status == 0 and report["passed"] is True
    assert report["first_failure"] is None
    statuses = {f["name"]: f["status"] for f in report["functions"]}
    # the notebook takes sigmoid and relu and their backwards from the course's dnn_utils
    helpers = {"sigmoid", "relu", "sigmoid_backward", "relu_backward"}
    expected_missing = helpers if name.endswith(".ipynb") else set()
    assert {n for n, s in statuses.items() if s == "missing"} == expected_missing
    assert {n for n, s in statuses.items() if s != "missing"} == set(statuses) - expected_missing
    assert all(s == "pass" for n, s in statuses.items() if n not in expected_missing)


def test_the_notebook_skips_its_course_imports_and_notes_the_cell_that_does_not_parse(reports):
    notes = reports["correct .ipynb"]["notes"]
    assert "code cell 21 (# a half-finished idea, left in the not…) does not parse (line 2: " \
           "'(' was never closed); its functions were not read" in notes
    skipped = {note.split("`")[1] for note in notes if note.startswith("skipped")}
    assert {"from testCases import *", "from public_tests import *",
            "from dnn_utils import sigmoid, sigmoid_backward, relu, relu_backward"} <= skipped
    helper = next(f for f in reports["correct .ipynb"]["functions"] if f["name"] == "relu")
    assert helper["detail"] == "not defined: the engine's own is used where it is needed"


@pytest.mark.parametrize("name", VARIANTS)
def test_each_classic_mistake_is_named(reports, name):
    *_, function, what, mistake = VARIANTS[name]
    report = reports[name]
    assert report.exit_status == 1 and report["passed"] is False
    failure = report["first_failure"]
    assert (failure["function"], failure["what"], failure["mistake"]) == (function, what, mistake)
    assert failure["hint"] == HINTS[function, mistake]
    statuses = {f["name"]: f["status"] for f in report["functions"]}
    # checked alone: the one broken function fails, every other one still passes
    assert [n for n, s in statuses.items() if s != "pass"] == [function]
    assert failure["hint"] in str(report)


def test_a_misspelled_name_is_reported_and_is_not_a_failure(reports):
    report = reports["misspelled"]
    row = next(f for f in report["functions"] if f["name"] == "L_model_forward")
    assert row["status"] == "missing"
    assert row["detail"] == "not defined; you defined L_model_foward, a letter or two away: " \
                            "a misspelling?"
    assert report.exit_status == 0  # §8: a function not defined is not a failure
    assert report.summary() == ("All 13 of your course functions give the course's results; "
                                "1 probable misspelling: L_model_foward → L_model_forward "
                                "(rename it to have it checked).")


@pytest.mark.parametrize(("name", "detail", "hint"), [
    ("notebook with a graded cell that does not parse",
     "could not be read: code cell 15 (# GRADED FUNCTION: linear_backward) does not parse "
     "(line 6: '(' was never closed)",
     "Python cannot parse that cell"),
    ("default from a call", "its definition raised NameError: name 'rate' is not defined "
                            "(line 135: def update_parameters(parameters, grads, "
                            "learning_rate=rate()):)", "The `def` statement itself failed"),
])
def test_a_function_that_could_not_be_loaded_is_an_error_not_missing(reports, name, detail,
                                                                       hint):
    report = reports[name]
    function = "linear_backward" if name.startswith("notebook") else "update_parameters"
    row = next(f for f in report["functions"] if f["name"] == function)
    assert (row["status"], row["detail"]) == ("error", detail)
    assert report["first_failure"]["function"] == function
    assert report["first_failure"]["hint"].startswith(hint)
    assert report.exit_status == 1
    others = [f["status"] for f in report["functions"] if f["name"] != function]
    assert set(others) <= {"pass", "missing"}


def test_a_default_argument_may_name_a_constant_of_the_file(reports):
    report = reports["default from a constant"]
    assert report.exit_status == 0
    assert {f["status"] for f in report["functions"]} == {"pass"}


def test_an_empty_file_fails(reports):
    report = reports["empty"]
    assert report.exit_status == 1 and report["passed"] is False
    assert {f["status"] for f in report["functions"]} == {"missing"}
    assert report["first_failure"]["what"] == "the file"
    assert report["first_failure"]["got"] == "none of them; it defines no functions"


@pytest.mark.parametrize(("name", "where"), [
    ("raises", "line 98: raise ValueError('not yet')"),
    # the cell by its first line too: Jupyter shows no cell numbers
    ("notebook raises", "code cell 15 (# GRADED FUNCTION: linear_backward), line 6: "
                        "dW = 1 / m * np.dot(dZ, A_prev)"),
])
def test_a_function_that_raises_is_an_error_at_the_learners_line(reports, name, where):
    report = reports[name]
    row = next(f for f in report["functions"] if f["name"] == "linear_backward")
    assert row["status"] == "error" and where in row["detail"]
    assert report["first_failure"]["function"] == "linear_backward"
    assert report["first_failure"]["got"].startswith(("raised ValueError: not yet",
                                                      "raised ValueError: shapes"))
    assert report.exit_status == 1


@pytest.mark.parametrize(("name", "function", "status", "hint"), [
    ("lambda", "sigmoid", "fail", "sigmoid is 1 / (1 + np.exp(-Z)); yours has np.exp(Z)"),
    ("alias", "linear_backward", "fail", "dW = (1/m) dZ A_prevᵀ; yours lacks the 1/m."),
    ("shared default", "L_model_forward", "fail",
     "Your L_model_forward has a default argument caches=[]: Python makes that object once"),
    ("caches popped", "L_model_backward", "error",
     "A tuple cannot be changed, and your function calls .pop() on one"),
    ("returned out of order", "linear_backward", "fail",
     "Your linear_backward returns the right values in another order: dW, db, dA_prev. The "
     "course returns dA_prev, dW, db, in that order."),
    ("activation in capitals", "linear_activation_forward", "error",
     "A variable was used before any line set it: most often an if and elif"),
    ("a class's method", "linear_backward", "fail",
     "dW = (1/m) dZ A_prevᵀ; yours lacks the 1/m."),
    ("np.matrix", "linear_forward", "fail", "Your linear_forward gives Z as an np.matrix"),
    ("b not updated", "update_parameters", "fail", "Update b too"),
    ("a tuple of 1", "L_model_backward", "fail",
     "Your L_model_backward returns a tuple of 1: a comma after the value"),
])
def test_more_mistakes_are_found_and_explained(reports, name, function, status, hint):
    report = reports[name]
    assert report.exit_status == 1
    row = next(f for f in report["functions"] if f["name"] == function)
    assert row["status"] == status
    assert report["first_failure"]["function"] == function
    assert report["first_failure"]["hint"].startswith(hint)


def test_an_alias_of_a_skipped_import_leaves_the_function_missing(reports):
    """relu_backward = rb after a `from dnn_utils import ... as rb` that fails: the engine's
    own is used, as with the import alone; the alias is a note, not an error."""
    report = reports["alias of a skipped import"]
    statuses = {f["name"]: f["status"] for f in report["functions"]}
    assert statuses["relu_backward"] == "missing"
    assert report.exit_status == 0
    assert any(note.startswith("skipped `relu_backward`") for note in report["notes"])


@pytest.mark.parametrize("name", ["computed constant", "named tuple cache", "dispatch dict",
                                  "future annotations and a type alias"])
def test_names_bound_by_computed_constants_and_future_imports_are_there(reports, name):
    report = reports[name]
    assert report.exit_status == 0, report["first_failure"]
    assert {f["status"] for f in report["functions"]} == {"pass"}


@pytest.mark.parametrize("name", ["decorated", "decorated from a module"])
def test_a_decorated_function_is_checked_alone(reports, name):
    """A correct L_model_forward inside a decorator's wrapper calls the course's
    linear_activation_forward, not the learner's wrong one, as an undecorated one does:
    whether the decorator is the file's own or comes from the learner's module."""
    statuses = {f["name"]: f["status"] for f in reports[name]["functions"]}
    assert statuses["L_model_forward"] == "pass"
    assert statuses["linear_activation_forward"] == "fail"


def test_a_loop_over_sorted_keys_fails_at_ten_layers(reports):
    """sorted() puts W10 after W1: right below ten layers, wrong from there."""
    report = reports["sorted keys"]
    assert report["first_failure"]["function"] == "L_model_forward"
    assert report["first_failure"]["case"].startswith("ten layers")



def test_a_result_stored_by_shape_fails_when_called_again_on_other_values(reports):
    failure = reports["a result stored by shape"]["first_failure"]
    assert (failure["function"], failure["mistake"]) == ("relu", "stored_result")
    assert failure["case"].endswith("called again with each array x as x²")
    assert failure["hint"].startswith("Called again on other values of the same shapes")


@pytest.mark.parametrize(("name", "function"), [
    ("its own generator", "initialize_parameters"),
    ("its own generator in the deep init", "initialize_parameters_deep")])
def test_the_courses_draws_from_a_generator_of_its_own_pass_with_a_note(reports, name,
                                                                        function):
    report = reports[name]
    assert report.exit_status == 0, report["first_failure"]
    row = next(f for f in report["functions"] if f["name"] == function)
    assert row["status"] == "pass" and "its draws ignore np.random.seed" in row["detail"]
    assert "as the notebook's test shows them" in row["detail"]


def test_a_constant_m_is_not_named_a_mistake_it_only_looks_like_on_one_case(reports):
    """m = 4 of the file gives A_prev.shape[0] on a case whose A_prev has 4 rows, but the
    course's case, which it passed, tells the two apart."""
    failure = reports["m a constant of the file"]["first_failure"]
    assert (failure["function"], failure["what"]) == ("linear_backward", "dW")
    assert failure["mistake"] is None


def test_an_alias_of_an_instances_method_is_an_error_not_missing(reports):
    report = reports["an instance's method"]
    assert report.exit_status == 1
    row = next(f for f in report["functions"] if f["name"] == "linear_backward")
    assert row["status"] == "error"
    assert "reads `backward`, which line" in row["detail"]
    assert report["first_failure"]["hint"].startswith("Write `def linear_backward(...)`")
