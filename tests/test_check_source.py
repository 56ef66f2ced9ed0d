"""Tests for engine.check.source: the imports and functions of a .py file or a notebook,
read without running the rest; a file that cannot be read says why."""

import json
from pathlib import Path

import numpy as np
import pytest

from engine.check.source import PARSE_HINT, UnreadableFileError, read_program

SOLUTIONS = Path(__file__).resolve().parent / "check_solutions"

PYTHON = '''"""A learner's file."""
import numpy as np; train_for_hours()
from testCases import *

%matplotlib inline
!pip install h5py

def helper(x):
    return x

@decorated
def linear_forward(A, W, b):
    return np.dot(W, A) + b, (A, W, b)

parameters = train_for_hours()
LR = 0.0075
'''


def notebook(*cells, key="cells"):
    return json.dumps({key: [{"cell_type": kind, "source": source} for kind, source in cells]})


@pytest.fixture
def python_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(PYTHON)
    return path


def test_a_python_file_gives_its_imports_and_functions_only(python_file):
    program = read_program(python_file)
    assert [(p.kind, p.name) for p in program.pieces] == [
        ("import", "import numpy as np"), ("import", "from testCases import *"),
        ("def", "helper"), ("def", "linear_forward"), ("constant", "LR")]
    assert program.label == "mine.py" and program.folder == str(python_file.parent)
    assert program.notes == () and program.broken == ()
    assert all("train_for_hours" not in p.code for p in program.pieces)


def test_a_piece_keeps_its_line_numbers_and_decorators(python_file):
    piece = read_program(python_file).pieces[3]
    code = compile(piece.code, piece.filename, "exec")
    function = next(c for c in code.co_consts if hasattr(c, "co_firstlineno"))
    assert function.co_firstlineno == 11  # the decorator's line, as in the file
    assert piece.code.splitlines()[10:] == ["@decorated", "def linear_forward(A, W, b):",
                                            "    return np.dot(W, A) + b, (A, W, b)"]
    assert piece.filename == str(python_file)


def test_the_course_notebook_is_read_cell_by_cell():
    program = read_program(SOLUTIONS / "solution.ipynb")
    defs = [p.name for p in program.pieces if p.kind == "def"]
    assert defs == ["initialize_parameters", "initialize_parameters_deep", "linear_forward",
                    "linear_activation_forward", "L_model_forward", "compute_cost",
                    "linear_backward", "linear_activation_backward", "L_model_backward",
                    "update_parameters"]
    assert program.pieces[0].filename == "solution.ipynb, code cell 1 (import numpy as np)"
    assert "from public_tests import *" in [p.name for p in program.pieces]
    assert program.notes == ("code cell 21 (# a half-finished idea, left in the not…) does "
                             "not parse (line 2: '(' was never closed); its functions were "
                             "not read",)
    assert program.broken == ()  # that cell is a test cell: it defines no course function


@pytest.mark.parametrize(("cells", "defs", "notes"), [
    ([("code", "def f():\n    return 1")], ["f"], 0),  # source as one string
    ([("code", ["def f():\n", "    return 1\n"])], ["f"], 0),  # or as a list of lines
    ([("markdown", "def f(): pass"), ("raw", "def g(): pass")], [], 0),
    ([("code", "%%time\ndef f():\n    pass")], ["f"], 0),  # a cell magic whose body is Python
    ([("code", "%%bash\ndef f() { echo; }")], [], 0),  # and one whose body is not
    ([("code", "!ls\n%timeit f()\ndef f():\n    pass")], ["f"], 0),
    ([("code", "def f(:\n    pass"), ("code", "def g():\n    pass")], ["g"], 1),
    ([("code", "x = !ls\ndef f():\n    pass")], [], 1),
])
def test_notebook_cells(tmp_path, cells, defs, notes):
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(*cells))
    program = read_program(path)
    assert [p.name for p in program.pieces if p.kind == "def"] == defs
    assert len(program.notes) == notes


def test_an_nbformat_3_notebook_is_read(tmp_path):
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps({"worksheets": [{"cells": [
        {"cell_type": "code", "input": ["def relu(Z):\n", "    return Z, Z\n"]}]}]}))
    assert [p.name for p in read_program(path).pieces] == ["relu"]


def test_a_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbfdef relu(Z):\n    return Z, Z\n")
    assert [p.name for p in read_program(path).pieces] == ["relu"]


def test_a_coding_line_is_read_as_python_reads_it(tmp_path):
    """PEP 263: `# -*- coding: latin-1 -*-` makes byte 0xe9 an é, as Python runs it."""
    path = tmp_path / "latin.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\ndef relu(Z):\n    return Z, Z\n")
    program = read_program(path)
    assert [p.name for p in program.pieces] == ["relu"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("gone.py", None, "gone.py: no such file"),
    ("folder.py", "folder", "folder.py is a folder, not a file"),
    ("latin.py", b"# caf\xe9\n", "latin.py is not UTF-8 text (byte 5)"),
    ("koi.py", b"# coding: klingon\n", "koi.py: unknown encoding: klingon"),
    ("ascii.py", b"# coding: ascii\n# caf\xe9\n", "ascii.py is not ascii text (byte 21)"),
    ("broken.py", b"def f(:\n    pass\n", "broken.py is not Python that parses: line 1: "),
    ("nul.py", b"x = 1\0\n", "nul.py is not Python that parses: source code string cannot "
                              "contain null bytes"),
    ("deep.py", ("x = " + "1+" * 200000 + "1\n").encode(),
     "deep.py is not Python that parses: it is nested too deeply for Python's parser"),
    ("text.ipynb", b"def relu(Z): pass", "text.ipynb is not a notebook I can read: it is not JSON "
                                         "(line 1, column 1: Expecting value)"),
    ("list.ipynb", b"[1, 2]", "list.ipynb is not a notebook I can read: it has no cells"),
    ("empty.ipynb", b"{}", "empty.ipynb is not a notebook I can read: it has no cells"),
    ("ints.ipynb", b'{"cells": [{"cell_type": "code", "source": [1, 2]}]}',
     "ints.ipynb is not a notebook I can read: the source of cell 1 is not text"),
    ("null.ipynb", b'{"cells": [{"cell_type": "markdown"}, {"cell_type": "code", "source": null}]}',
     "null.ipynb is not a notebook I can read: the source of cell 2 is not text"),
    ("number.ipynb", b'{"cells": [3]}', "number.ipynb is not a notebook I can read: cell 1 is "
                                         "not a JSON object"),
    ("sheets.ipynb", b'{"worksheets": [1]}', "sheets.ipynb is not a notebook I can read: its "
                                             "worksheets are not a list of sheets with cells"),
    ("sheet.ipynb", b'{"worksheets": "x"}', "sheet.ipynb is not a notebook I can read: its "
                                            "worksheets are not a list of sheets with cells"),
    ("nested.ipynb", b"[" * 100000 + b"]" * 100000,
     "nested.ipynb is not a notebook I can read: its JSON is nested too deeply"),
])
def test_a_file_that_cannot_be_read_says_why(tmp_path, name, content, message):
    path = tmp_path / name
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(UnreadableFileError) as raised:
        read_program(path)
    assert message in str(raised.value)


def test_an_empty_file_is_read_and_holds_nothing(tmp_path):
    path = tmp_path / "empty.py"
    path.write_text("")
    assert read_program(path).pieces == ()


@pytest.mark.parametrize(("cells", "broken"), [
    # a course function in a cell that does not parse is broken, with why
    ([("code", "def linear_backward(dZ, cache):\n    return [dZ")],
     [("linear_backward", "code cell 1 (def linear_backward(dZ, cache):) does not parse "
                          "(line 2: '[' was never closed)", PARSE_HINT)]),
    # a helper of the learner's is not a course function: the note is enough
    ([("code", "def helper(x):\n    return [x")], []),
    # the cell that defines it last has the last word, as when the notebook runs top down
    ([("code", "def relu(Z):\n    return (Z"), ("code", "def relu(Z):\n    return Z, Z")], []),
    ([("code", "def relu(Z):\n    return Z, Z"), ("code", "import numpy as np\n"
      "def relu(Z):\n    return np.maximum(0, Z, Z")],
     [("relu", "code cell 2 (import numpy as np) does not parse (line 3: '(' was never "
               "closed)", PARSE_HINT)]),
    ([("code", "def sigmoid(Z):\n    return " + "(" * 300 + "Z" + ")" * 300)],
     [("sigmoid", "code cell 1 (def sigmoid(Z):) does not parse (line 2: too many nested "
                  "parentheses)", PARSE_HINT)]),
    ([("code", "x = " + "1+" * 200000 + "1\ndef relu(Z):\n    return Z, Z")],
     # a long first line, cut at 40 characters
     [("relu", "code cell 1 (x = 1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1…) does not parse "
               "(it is nested too deeply for Python's parser)", PARSE_HINT)]),
])
def test_a_course_function_in_a_cell_that_does_not_parse_is_broken(tmp_path, cells, broken):
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(*cells))
    assert list(read_program(path).broken) == broken


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
def test_constants_are_kept_and_calls_are_not_run(tmp_path, source, constants):
    path = tmp_path / "mine.py"
    path.write_text(source)
    assert [p.name for p in read_program(path).pieces if p.kind == "constant"] == constants


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


def test_defs_and_imports_in_try_and_with_blocks_are_read_as_jupyter_runs_them(tmp_path):
    """A learner's def inside `try:` was reported as not defined. A try's except blocks
    run only when its body fails: they are left out."""
    path = tmp_path / "mine.py"
    path.write_text(TRY_AND_WITH)
    pieces = read_program(path).pieces
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
def test_functions_assigned_without_a_call_are_kept(tmp_path, source, defs, notes):
    path = tmp_path / "mine.py"
    path.write_text(source)
    program = read_program(path)
    assert [p.name for p in program.pieces if p.kind == "def"] == defs
    assert list(program.notes) == [note.format(path=path) for note in notes]


@pytest.mark.parametrize(("source", "aliases"), [
    ("def mine(dZ, cache):\n    return 1\nlinear_backward = mine", ["linear_backward"]),
    ("X = train_x", []),  # not a course function's name: not run, no note
])
def test_a_course_functions_other_name_is_kept_apart(tmp_path, source, aliases):
    """An alias may name what a skipped import would have given (relu_backward = rb): it is
    its own kind of piece, whose failure is a note, not the function's error."""
    path = tmp_path / "mine.py"
    path.write_text(source)
    assert [p.name for p in read_program(path).pieces if p.kind == "alias"] == aliases


def test_the_rest_of_a_lambdas_line_is_not_run(tmp_path):
    """`sigmoid = lambda Z: ...; train()`: the piece is the assignment alone."""
    path = tmp_path / "mine.py"
    path.write_text("import numpy as np\nsigmoid = lambda Z: (Z, Z); open('RAN', 'w')\n")
    [piece] = [p for p in read_program(path).pieces if p.kind == "def"]
    assert "open" not in piece.code and piece.code.count("\n") == 1  # still on line 2


def test_a_course_function_assigned_in_a_notebook_cell_is_noted(tmp_path):
    path = tmp_path / "mine.ipynb"
    path.write_text(notebook(("code", "import numpy as np"),
                             ("code", "\nrelu = np.vectorize(lambda z: max(z, 0))")))
    assert read_program(path).notes == (
        "`relu` is assigned on line 2 of mine.ipynb, code cell 2 (relu = np.vectorize(lambda "
        "z: max(z, 0))), not written with `def`: the check does not run that line, so your "
        "`relu` was not checked",)


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
def test_an_alias_of_what_a_skipped_call_made_cannot_be_read(tmp_path, tail, broken):
    path = tmp_path / "mine.py"
    path.write_text(INSTANCE + tail)
    program = read_program(path)
    assert [name for name, *_ in program.broken] == broken
    if broken:
        _, why, hint = program.broken[0]
        assert why.startswith("`relu = model.relu` reads `model`, which line 9 of")
        assert hint.startswith("Write `def relu(...)`")


@pytest.mark.parametrize(("cells", "broken"), [
    # what a skipped call made in one cell, aliased in the next
    ([("code", INSTANCE), ("code", "relu = model.relu\n")], ["relu"]),
    # ...and bound again, by a def or an alias, in a later one: Python's last binding
    ([("code", INSTANCE), ("code", "relu = model.relu\n"), ("code", DEF)], []),
    ([("code", INSTANCE + DEF.replace("def relu", "def my_relu")), ("code", "relu = model.relu\n"),
      ("code", "relu = my_relu\n")], []),
    # a class whose body runs code is not run either
    ([("code", "import numpy as np\n\n\nclass Model:\n    print('hi')\n\n"
               "    @staticmethod\n    def relu(Z):\n        return np.maximum(0, Z), Z\n"),
      ("code", "relu = Model.relu\n")], ["relu"]),
])
def test_a_notebooks_alias_of_what_a_skipped_line_made_cannot_be_read(tmp_path, cells, broken):
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(*cells))
    assert [name for name, *_ in read_program(path).broken] == broken
