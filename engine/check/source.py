"""Read a learner's .py file or .ipynb notebook: its imports, constants and top-level
functions.

Parse, don't run: only import statements, `def`s and `class`es, functions assigned
without a call (`sigmoid = lambda Z: ...`, `linear_backward = my_linear_backward` or
`= Backward.linear_backward`, each statement alone, not the rest of its line),
assignments of plain constants (`LR = 0.0075`, which a default argument may use), and
assignments and classes that run none of the learner's code, and call nothing but a few
libraries' functions (`EPS = np.finfo(float).eps`, `Cache = namedtuple(...)`, `FORWARD =
{"relu": relu}`, `Array = np.ndarray`: engine.check.safe_assignments) are kept, so a cell
that trains for minutes, or a test cell that calls the course's missing helpers, never
runs; a course function assigned by a call (`relu = np.vectorize(...)`) is noted as not
checked. IPython lines (%magics, !shell
commands) are left out; a cell that still does not parse is noted and skipped, and the
other cells are read. A course function whose cell does not parse is `broken`: the check
reports it as an error, not as missing.
"""

import ast
import io
import json
import re
import tokenize
from pathlib import Path
from typing import NamedTuple

from engine.check.course_functions import HELPERS, NAMES
from engine.check.safe_assignments import (
    CONSTANT,
    FUNCTION,
    assignment,
    computed_names,
    dotted,
    imported_from,
    safe_class,
    target_names,
)

# cell magics whose body is Python; the body of any other (%%bash, %%html) is not
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
# a `def` line in a cell that does not parse, found without the parser
DEF_LINE = re.compile(r"^[ \t]*def[ \t]+(\w+)[ \t]*\(", re.MULTILINE)
# what ast.parse raises besides SyntaxError: RecursionError or MemoryError on code nested
# thousands deep ('1+' * 200000), ValueError on a null byte (Python 3.11)
PARSE_ERRORS = (SyntaxError, RecursionError, MemoryError, ValueError)


class UnreadableFileError(ValueError):
    """The file cannot be read as Python or as a notebook; the message says why."""


class Piece(NamedTuple):
    # "import"; "constant" (a plain or computed one, or a class); "def"; or "alias" (a
    # course function's other name)
    kind: str
    name: str  # the function's or constant's name, or the import statement as written
    code: str  # the statement, after blank lines that keep its line numbers
    filename: str  # its file in tracebacks: the path, or "<name>, code cell 3"


class Program(NamedTuple):
    label: str  # the file's name, for the report
    folder: str  # where it is: its own modules import from there
    pieces: tuple[Piece, ...]
    notes: tuple[str, ...]  # what could not be read, for the learner
    # (course function, why it could not be read, a hint)
    broken: tuple[tuple[str, str, str], ...] = ()


def read_program(path) -> Program:
    """The imports and functions of a .py file or a notebook (any other name: Python)."""
    path = Path(path)
    text = read_text(path)
    if path.suffix.lower() == ".ipynb":
        pieces, notes, broken = notebook_pieces(path, text)
        return Program(path.name, str(path.resolve().parent), tuple(pieces), tuple(notes),
                       tuple((name, *why) for name, why in broken.items()))
    try:
        pieces, assigned, broken = module_pieces(text, str(path))
    except PARSE_ERRORS as err:
        raise UnreadableFileError(f"{path.name} is not Python that parses: "
                                  f"{parse_error(err)}") from None
    return Program(path.name, str(path.resolve().parent), tuple(pieces),
                   tuple(unchecked(pieces, assigned)),
                   tuple((name, *why) for name, why in broken.items()))


def read_text(path: Path) -> str:
    """The file's text: a .py file's in the encoding its coding line declares, as Python
    reads it (`# -*- coding: latin-1 -*-`; UTF-8 without one), a notebook's in UTF-8, as
    JSON is; a BOM is dropped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableFileError(f"{path} is a folder, not a file") from None
    except OSError as err:
        raise UnreadableFileError(f"{path}: {err.strerror or err}") from None
    encoding = "utf-8-sig"
    if path.suffix.lower() != ".ipynb":
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as err:
            if not err.msg.startswith("invalid or missing"):  # "unknown encoding: klingon"
                raise UnreadableFileError(f"{path.name}: {err.msg}") from None
            # no coding line, and a first line that is not UTF-8: decoding says where
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        name = "UTF-8" if encoding.startswith("utf-8") else encoding
        raise UnreadableFileError(f"{path.name} is not {name} text (byte {err.start})") from None


def parse_error(err: Exception) -> str:
    """Why the parser gave up, for a person: "line 2: '(' was never closed"."""
    if isinstance(err, RecursionError | MemoryError):
        return "it is nested too deeply for Python's parser"
    if isinstance(err, SyntaxError) and err.lineno is not None:
        return f"line {err.lineno}: {err.msg}"
    return str(getattr(err, "msg", None) or err)


def parse(source: str, filename: str) -> ast.Module:
    """The source's syntax tree, with IPython's lines left out if it needs that to parse."""
    try:
        return ast.parse(source, filename)
    except SyntaxError:
        return ast.parse(without_ipython(source), filename)


def without_ipython(source: str) -> str:
    """%magic and !shell lines blanked (line numbers stay), and a %%cell magic's whole
    cell unless its body is Python (%%time)."""
    lines = source.split("\n")
    first = lines[0].strip()
    if first.startswith("%%"):
        if first[2:].split(" ")[0] not in PYTHON_CELL_MAGICS:
            return ""
        lines[0] = ""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def _plain_names(targets) -> list[str]:
    """The targets' names if each is a plain name (not `a.b`, `a[0]` or `a, b`), else []."""
    return [t.id for t in targets] if all(isinstance(t, ast.Name) for t in targets) else []


def constant_names(node: ast.stmt) -> list[str]:
    """The names an assignment of a plain constant binds (`LR = 0.0075`, `dims = [5, 4]`),
    else []: a call, or anything that computes, is not run."""
    targets, value = assignment(node)
    if value is None:
        return []
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return []
    return _plain_names(targets)


def lambda_names(node: ast.stmt) -> list[str]:
    """The names an assignment binds to a lambda (`sigmoid = lambda Z: ...`, a helper's too),
    which makes a function without calling anything; else []."""
    if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Lambda):
        return []
    return _plain_names(node.targets)


def alias_names(node: ast.stmt) -> list[str]:
    """The course functions' names that an assignment binds to another name or a dotted one
    (`linear_backward = my_linear_backward`, `= Backward.linear_backward`); else []. Only
    course names: `X = train_x` would only fail, a note for nothing."""
    if not isinstance(node, ast.Assign) or dotted(node.value) is None:
        return []
    names = _plain_names(node.targets)
    return names if set(names) & set(NAMES) else []


def course_names_assigned(node: ast.stmt) -> list[str]:
    """The course functions' names that an assignment binds (by a call, say), which
    module_pieces does not keep: a note tells the learner that they were not checked."""
    targets, _ = assignment(node)
    return [t.id for t in targets if isinstance(t, ast.Name) and t.id in NAMES]


def top_level(body: list[ast.stmt]):
    """The statements of a module's body, and those of the try and with blocks in it, which
    Jupyter runs too (`try:` around a def, or around an import that may fail). A try's
    except blocks are left out: they run only when its body fails (`except ImportError:
    np = None` must not undo `import numpy as np`)."""
    for node in body:
        if isinstance(node, ast.Try | ast.TryStar):
            for block in (node.body, node.orelse, node.finalbody):
                yield from top_level(block)
        elif isinstance(node, ast.With):
            yield from top_level(node.body)
        else:
            yield node


def placed(code: str, start: int) -> str:
    """Code that begins at line `start` of its file, to compile at its own line numbers:
    blank lines before it, and, where it is indented (a def inside a try or with block),
    an `if True:` on the line above, which that block's own line held. Its indentation is
    kept, not taken off: a string in it may be less indented."""
    if code[:1].isspace():
        return "\n" * (start - 2) + "if True:\n" + code
    return "\n" * (start - 1) + code


PARSE_HINT = ("Python cannot parse that cell: run it in Jupyter to see where, and look just "
              "above that line for a bracket, quote or colon left open.")
UNRUN_ALIAS = ("`{name} = {value}` reads `{root}`, which {where} binds by running code that "
               "the check does not run (a call, or a class whose body runs code)")
UNRUN_ALIAS_HINT = ("Write `def {name}(...)` at the top level of your file, or take it from "
                    "the class (a staticmethod), not from an instance that a call makes.")


def module_pieces(source: str, filename: str, known: dict[str, str] | None = None,
                  unrun: dict[str, str] | None = None
                  ) -> tuple[list[Piece], list[tuple[str, str]], dict[str, tuple[str, str]]]:
    """The top-level imports, constants and function definitions of some Python source
    (a lambda or another function's name assigned to a name counts as a definition), the
    course functions assigned anything else: (name, where), and the course functions that
    alias a name bound by such a line (`linear_forward = model.linear_forward` after
    `model = Model()`), with why they cannot be read and a hint: an error, not a function
    missing. known and unrun (the names bound by lines not run, and where) carry a
    notebook's names from cell to cell."""
    lines = source.split("\n")
    pieces, assigned, broken = [], [], {}
    unrun = {} if unrun is None else unrun
    # the names bound so far, for engine.check.safe_assignments: a notebook's, from cell to
    # cell; the helpers are there as the course's `from dnn_utils import ...` binds them
    # (the child binds the engine's own, which any call may be handed)
    known = dict.fromkeys(HELPERS, CONSTANT) if known is None else known
    for node in top_level(parse(source, filename).body):
        if isinstance(node, ast.Import | ast.ImportFrom):
            # unparsed, not sliced: `import numpy as np; train()` keeps only the import
            code = "\n" * (node.lineno - 1) + ast.unparse(node)
            pieces.append(Piece("import", ast.unparse(node), code, filename))
            known |= (bound := imported_from(node))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or \
                (isinstance(node, ast.ClassDef) and safe_class(node, known)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            code = placed("\n".join(lines[start - 1:node.end_lineno]), start)
            kind = "constant" if isinstance(node, ast.ClassDef) else "def"
            pieces.append(Piece(kind, node.name, code, filename))
            known[node.name], bound = FUNCTION, [node.name]
        # unparsed, not sliced: `sigmoid = lambda Z: ...; train()` keeps only the assignment
        elif names := lambda_names(node):
            code = "\n" * (node.lineno - 1) + ast.unparse(node)
            pieces.append(Piece("def", ", ".join(names), code, filename))
            known |= (bound := dict.fromkeys(names, FUNCTION))
        elif (names := alias_names(node)) and dotted(node.value)[0] in unrun:
            root = dotted(node.value)[0]
            broken |= {name: (UNRUN_ALIAS.format(name=name, value=ast.unparse(node.value),
                                                 root=root, where=unrun[root]),
                              UNRUN_ALIAS_HINT.format(name=name))
                       for name in names if name in NAMES}
            bound = []
        elif names := alias_names(node):
            # an alias of a name that is not there (a skipped import's) is skipped with a note,
            # and the course function is missing: the engine's own is used, as without it
            code = "\n" * (node.lineno - 1) + ast.unparse(node)
            pieces.append(Piece("alias", ", ".join(names), code, filename))
            known |= (bound := dict.fromkeys(names, FUNCTION))
        elif names := constant_names(node) or computed_names(node, known):
            code = "\n" * (node.lineno - 1) + ast.unparse(node)
            pieces.append(Piece("constant", ", ".join(names), code, filename))
            known |= (bound := dict.fromkeys(names, CONSTANT))
        else:
            where = f"line {node.lineno} of {filename}"
            assigned += [(name, where) for name in course_names_assigned(node)]
            unrun |= dict.fromkeys(bound_names(node), where)
            continue
        for name in bound:  # bound again by a line that runs, which Python's last binding is
            unrun.pop(name, None)
            broken.pop(name, None)
    return pieces, assigned, broken


def bound_names(node: ast.stmt) -> list[str]:
    """The names a statement binds as a whole: an assignment's (`model = Model()`, `a, b =
    f()`; not `a` of `a[0] = f()`, which only changes it), a class's."""
    if isinstance(node, ast.ClassDef):
        return [node.name]
    targets, _ = assignment(node)
    return [name for target in targets for name in target_names(target)]


def unchecked(pieces: list[Piece], assigned: list[tuple[str, str]]) -> list[str]:
    """A note for each course function that is assigned by a line the check does not run
    (module_pieces' `assigned`: name, where) and defined nowhere else."""
    defined = {name for piece in pieces if piece.kind in ("def", "alias")
               for name in piece.name.split(", ")}
    return [f"`{name}` is assigned on {where}, not written with `def`: the check does not "
            f"run that line, so your `{name}` was not checked" for name, where in assigned
            if name not in defined]


FIRST_LINE_CHARS = 40


def cell_name(number: int, source: str) -> str:
    """"code cell 20 (def linear_forward(A, W, b):)": Jupyter numbers no cells, so the
    number alone does not find it; its first line that is not blank does."""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    if len(first) > FIRST_LINE_CHARS:
        first = first[:FIRST_LINE_CHARS - 1] + "…"
    return f"code cell {number} ({first})" if first else f"code cell {number}"


def notebook_pieces(path: Path, text: str
                    ) -> tuple[list[Piece], list[str], dict[str, tuple[str, str]]]:
    """The pieces of every code cell that parses, a note for each one that does not, and
    the course functions such a cell defines, with why they could not be read and a hint
    (the last cell that defines a function has the last word, as when a notebook runs top
    down)."""
    pieces, notes, broken, assigned = [], [], {}, []
    known = dict.fromkeys(HELPERS, CONSTANT)  # the names bound so far (module_pieces)
    unrun = {}  # those bound by lines not run
    for number, source in enumerate(code_cells(path, text), start=1):
        named = cell_name(number, source)
        cell = f"{path.name}, {named}"
        try:
            found, in_cell, unread = module_pieces(source, cell, known, unrun)
        except PARSE_ERRORS as err:
            why = f"{named} does not parse ({parse_error(err)})"
            notes.append(f"{why}; its functions were not read")
            broken |= {name: (why, PARSE_HINT) for name in DEF_LINE.findall(source)
                       if name in NAMES}
            continue
        pieces += found
        assigned += in_cell
        for piece in found:  # a later def or alias binds the name again
            if piece.kind in ("def", "alias"):
                for name in piece.name.split(", "):
                    broken.pop(name, None)
        broken |= unread
    return pieces, notes + unchecked(pieces, assigned), broken


def code_cells(path: Path, text: str) -> list[str]:
    """The source of each code cell of a notebook (nbformat 4, or 3's worksheets)."""
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as err:
        raise unreadable(path, f"it is not JSON (line {err.lineno}, column {err.colno}: "
                               f"{err.msg})") from None
    except RecursionError:
        raise unreadable(path, "its JSON is nested too deeply") from None
    sources = []
    for number, cell in enumerate(notebook_cells(path, notebook), start=1):
        if not isinstance(cell, dict):
            raise unreadable(path, f"cell {number} is not a JSON object")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise unreadable(path, f"the source of cell {number} is not text")
        sources.append(source)
    return sources


def notebook_cells(path: Path, notebook) -> list:
    """The notebook's list of cells: "cells" (nbformat 4), or the cells of each worksheet
    (nbformat 3)."""
    if not isinstance(notebook, dict):
        raise unreadable(path, "it has no cells")
    if "cells" not in notebook and "worksheets" in notebook:
        worksheets = notebook["worksheets"]
        if not (isinstance(worksheets, list)
                and all(isinstance(w, dict) and isinstance(w.get("cells", []), list)
                        for w in worksheets)):
            raise unreadable(path, "its worksheets are not a list of sheets with cells")
        return [cell for sheet in worksheets for cell in sheet.get("cells", [])]
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise unreadable(path, "it has no cells")
    return cells


def unreadable(path: Path, why: str) -> UnreadableFileError:
    return UnreadableFileError(f"{path.name} is not a notebook I can read: {why}")
