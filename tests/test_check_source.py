"""Tests for engine.check.source: the imports and functions of a .py file or a notebook,
read without running the rest; a file that cannot be read says why."""

import json
from pathlib import Path

import pytest

from engine.check.source import PARSE_HINT, UnreadableFileError, read_program
from tests.test_check_statements import DEF, INSTANCE

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
    ([("code", "x = !ls\ndef f():\n    pass")], ["f"], 0),  # a shell command's output
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


def test_a_course_function_assigned_in_a_notebook_cell_is_noted(tmp_path):
    path = tmp_path / "mine.ipynb"
    path.write_text(notebook(("code", "import numpy as np"),
                             ("code", "\nrelu = np.vectorize(lambda z: max(z, 0))")))
    assert read_program(path).notes == (
        "`relu` is assigned on line 2 of mine.ipynb, code cell 2 (relu = np.vectorize(lambda "
        "z: max(z, 0))), not written with `def`: the check does not run that line, so your "
        "`relu` was not checked",)


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
