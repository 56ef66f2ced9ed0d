"""Tests for engine.check.statements: which top-level statements of a learner's source
are kept (imports, defs, constants, aliases) and which are not run, with a note or an
error for a course function they bind."""

import numpy as np
import pytest

from engine.check.statements import module_pieces, unchecked


def pieces_of(source):
    return module_pieces(source, "mine.py")[0]


@pytest.mark.parametrize(("source", "constants"), [
    ("LR = 0.0075", ["LR"]),
    ("layers_dims = [12288, 20, 7, 5, 1]", ["layers_dims"]),
    ("rate: float = -1e-3", ["rate"]),
    ("a = b = 'relu'", ["a, b"]),
    ("shape = (3, 1)\nnames = {'W1': 1}", ["shape", "names"]),
    ("parameters = initialize_parameters_deep([5, 4])", []),  # a call is not run
    ("LR = 0.1 * 2", ["LR"]),  # arithmetic of what is there
    ("x, y = 1, 2", ["x, y"]),
    ("import numpy as np\nnp.random.seed(1)", []),
    # computed from what is there, with NumPy's and the standard library's functions
    ("import numpy as np\nEPS = np.finfo(np.float64).eps", ["EPS"]),
    ("from collections import namedtuple\nCache = namedtuple('Cache', 'A W b')", ["Cache"]),
    ("import numpy as np\nArray = np.ndarray", ["Array"]),
    ("FORWARD = {'relu': relu, 'sigmoid': sigmoid}", ["FORWARD"]),  # the helpers are there
    # a dict keeps the functions it is handed, and calls none of them
    ("def f(Z):\n    return Z\nACT = dict(f=f, g=lambda Z: train(Z))", ["ACT"]),
    ("import numpy as np\nKEYS = [f'W{l}' for l in range(1, 4)]", ["KEYS"]),
    # a call of anything else (the learner's, a name not there) is not run
    ("def train():\n    pass\nmodel = train()", []),
    ("from dnn_app_utils import load_data\nX, Y = load_data()", []),
    ("import numpy as np\nX = np.load('train.npy').T", []),  # nor one that reads a file
    ("train_x = train_x_flatten / 255", []),  # not there: it would only fail
    ("import numpy as np\nA = np.zeros(3).reshape(3, 1)", []),  # a method: of anything
    ("sigmoid = np.vectorize(lambda z: z)", []),  # a course function's name: not run
])
def test_constants_are_kept_and_calls_are_not_run(source, constants):
    assert [p.name for p in pieces_of(source) if p.kind == "constant"] == constants


TRY_AND_WITH = '''try:
    import numpy as np
except ImportError:
    np = None
    def relu(Z):
        return "the fallback"
with open(__file__) as f:
    def relu(Z):
        """A docstring
whose second line is less indented than the def."""
        return np.maximum(0, Z), Z
    train_for_hours()
if False:
    def never(): pass
'''


def test_defs_and_imports_in_try_and_with_blocks_are_read_as_jupyter_runs_them():
    """A learner's def inside `try:` was reported as not defined. A try's except blocks
    run only when its body fails: they are left out."""
    pieces = pieces_of(TRY_AND_WITH)
    assert [(p.kind, p.name) for p in pieces] == [("import", "import numpy as np"),
                                                  ("def", "relu")]
    namespace = {}
    for piece in pieces:
        exec(compile(piece.code, piece.filename, "exec"), namespace)
    assert namespace["relu"](np.array([-1.0, 2.0]))[0].tolist() == [0.0, 2.0]
    assert namespace["relu"].__code__.co_firstlineno == 8  # its line in the file
    assert namespace["relu"].__doc__.endswith("less indented than the def.")


@pytest.mark.parametrize(("source", "defs", "notes"), [
    # a lambda, and another function's name, are definitions: they run without a call
    ("sigmoid = lambda Z: (1 / (1 + np.exp(-Z)), Z)", ["sigmoid"], []),
    ("def mine(dZ, cache):\n    return 1\nlinear_backward = mine", ["mine"], []),
    ("relu = my_relu = lambda Z: Z", ["relu, my_relu"], []),
    ("helper = lambda Z: Z", ["helper"], []),  # a helper the learner's defs may call
    # a course function assigned by a call is not run, and the learner is told
    ("relu = np.vectorize(lambda z: max(z, 0))", [],
     ["`relu` is assigned on line 1 of {path}, not written with `def`: the check does not "
      "run that line, so your `relu` was not checked"]),
    ("model = train()", [], []),  # not a course function: nothing to say
    # defined with def as well: checked, so no note
    ("def relu(Z):\n    return Z, Z\nrelu = np.vectorize(relu)", ["relu"], []),
])
def test_functions_assigned_without_a_call_are_kept(source, defs, notes):
    pieces, assigned, _ = module_pieces(source, "mine.py")
    assert [p.name for p in pieces if p.kind == "def"] == defs
    assert unchecked(pieces, assigned) == [note.format(path="mine.py") for note in notes]


@pytest.mark.parametrize(("source", "aliases"), [
    ("def mine(dZ, cache):\n    return 1\nlinear_backward = mine", ["linear_backward"]),
    ("X = train_x", []),  # not a course function's name: not run, no note
])
def test_a_course_functions_other_name_is_kept_apart(source, aliases):
    """An alias may name what a skipped import would have given (relu_backward = rb): it is
    its own kind of piece, whose failure is a note, not the function's error."""
    assert [p.name for p in pieces_of(source) if p.kind == "alias"] == aliases


def test_the_rest_of_a_lambdas_line_is_not_run():
    """`sigmoid = lambda Z: ...; train()`: the piece is the assignment alone."""
    source = "import numpy as np\nsigmoid = lambda Z: (Z, Z); open('RAN', 'w')\n"
    [piece] = [p for p in pieces_of(source) if p.kind == "def"]
    assert "open" not in piece.code and piece.code.count("\n") == 1  # still on line 2


INSTANCE = ("import numpy as np\n\n\nclass Model:\n    def relu(self, Z):\n"
            "        return np.maximum(0, Z), Z\n\n\nmodel = Model()\n")
DEF = "def relu(Z):\n    return np.maximum(0, Z), Z\n"


@pytest.mark.parametrize(("tail", "broken"), [
    # a method of an instance that a call makes, which the check does not run: an error
    ("relu = model.relu\n", ["relu"]),
    # ...unless a def binds the name after it, as Python's last binding
    ("relu = model.relu\n" + DEF, []),
    (DEF + "relu = model.relu\n", ["relu"]),
    # a name a line changes (model[0] = ...), rather than binds, is still the constant's
    ("model = 3\nmodel.x = Model()\nrelu = model.relu\n", []),
])
def test_an_alias_of_what_a_skipped_call_made_cannot_be_read(tail, broken):
    _, _, unreadable = module_pieces(INSTANCE + tail, "mine.py")
    assert list(unreadable) == broken
    if broken:
        why, hint = unreadable[broken[0]]
        assert why.startswith("`relu = model.relu` reads `model`, which line 9 of")
        assert hint.startswith("Write `def relu(...)`")


DEF = "def relu(Z):\n    return np.maximum(0, Z), Z\n"


@pytest.mark.parametrize("line", [
    "%matplotlib inline", "!pip install h5py", "x = %pwd", "files = !ls", "np.random.randn?",
    "np.random.randn??", "?np.random.randn", "np.*rand*?", "   %time relu(1)",
])
def test_ipythons_own_lines_are_left_out(line):
    """A cell that runs in Jupyter is read: these lines had made its functions errors."""
    pieces = pieces_of(f"import numpy as np\n{line}\n{DEF}")
    assert [(p.kind, p.name) for p in pieces] == [("import", "import numpy as np"),
                                                  ("def", "relu")]
    assert pieces[1].code.startswith("\n\ndef relu")  # still on line 3


def test_a_percent_that_continues_an_expression_is_python():
    """A cell with a magic blanked only the lines the parser stopped at: black writes a
    long `"..." % (i, cost)` with the % starting the next line."""
    source = ("%matplotlib inline\nimport numpy as np\n\ndef report(i, cost):\n"
              "    return (\"Cost after iteration %i: %f\"\n        % (i, cost))\n")
    namespace = {}
    for piece in pieces_of(source):
        exec(compile(piece.code, "mine.py", "exec"), namespace)
    assert namespace["report"](3, 0.5) == "Cost after iteration 3: 0.500000"


def test_a_line_that_is_not_ipythons_keeps_the_parsers_error():
    with pytest.raises(SyntaxError) as raised:
        pieces_of("%matplotlib inline\ndef relu(Z)\n    return Z, Z\n")
    assert raised.value.lineno == 2


def test_a_python_typo_that_looks_like_ipython_keeps_its_own_line():
    """`if x =! 0:` is no IPython assignment (IPython's takes names on the left): the error
    stays at line 2, not at a later line that blanking it would give."""
    with pytest.raises(SyntaxError) as raised:
        pieces_of("%matplotlib inline\nif x =! 0:\n    y = 1\nz = 2\n")
    assert raised.value.lineno == 2
