"""Read a learner's .py file or .ipynb notebook: its imports and top-level functions.

Parse, don't run: only import statements and `def`s are kept, so a cell that trains for
minutes, or a test cell that calls the course's missing helpers, never runs. IPython
lines (%magics, !shell commands) are left out; a cell that still does not parse is noted
and skipped, and the other cells are read.
"""

import ast
import json
from pathlib import Path
from typing import NamedTuple

# cell magics whose body is Python; the body of any other (%%bash, %%html) is not
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}


class UnreadableFileError(ValueError):
    """The file cannot be read as Python or as a notebook; the message says why."""


class Piece(NamedTuple):
    kind: str  # "import" or "def"
    name: str  # the function's name, or the import statement as written
    code: str  # the statement, after blank lines that keep its line numbers
    filename: str  # its file in tracebacks: the path, or "<name>, code cell 3"


class Program(NamedTuple):
    label: str  # the file's name, for the report
    folder: str  # where it is: its own modules import from there
    pieces: tuple[Piece, ...]
    notes: tuple[str, ...]  # what could not be read, for the learner


def read_program(path) -> Program:
    """The imports and functions of a .py file or a notebook (any other name: Python)."""
    path = Path(path)
    text = read_text(path)
    if path.suffix.lower() == ".ipynb":
        pieces, notes = notebook_pieces(path, text)
    else:
        try:
            pieces, notes = module_pieces(text, str(path)), ()
        except SyntaxError as err:
            raise UnreadableFileError(f"{path.name} is not Python that parses: line "
                                      f"{err.lineno}: {err.msg}") from None
    return Program(path.name, str(path.resolve().parent), tuple(pieces), tuple(notes))


def read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise UnreadableFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableFileError(f"{path} is a folder, not a file") from None
    except UnicodeDecodeError as err:
        raise UnreadableFileError(f"{path.name} is not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise UnreadableFileError(f"{path}: {err.strerror or err}") from None


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


def module_pieces(source: str, filename: str) -> list[Piece]:
    """The top-level imports and function definitions of some Python source."""
    lines = source.split("\n")
    pieces = []
    for node in parse(source, filename).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            # unparsed, not sliced: `import numpy as np; train()` keeps only the import
            code = "\n" * (node.lineno - 1) + ast.unparse(node)
            pieces.append(Piece("import", ast.unparse(node), code, filename))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            code = "\n" * (start - 1) + "\n".join(lines[start - 1:node.end_lineno])
            pieces.append(Piece("def", node.name, code, filename))
    return pieces


def notebook_pieces(path: Path, text: str) -> tuple[list[Piece], list[str]]:
    """The pieces of every code cell that parses, and a note for each one that does not."""
    pieces, notes = [], []
    for number, source in enumerate(code_cells(path, text), start=1):
        cell = f"{path.name}, code cell {number}"
        try:
            pieces += module_pieces(source, cell)
        except SyntaxError as err:
            notes.append(f"code cell {number} does not parse (line {err.lineno}: {err.msg}); "
                         "its functions were not read")
    return pieces, notes


def code_cells(path: Path, text: str) -> list[str]:
    """The source of each code cell of a notebook (nbformat 4, or 3's worksheets)."""
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as err:
        raise UnreadableFileError(f"{path.name} is not a notebook: it is not JSON (line "
                                  f"{err.lineno}, column {err.colno}: {err.msg})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if cells is None and isinstance(notebook, dict) and notebook.get("worksheets"):
        cells = notebook["worksheets"][0].get("cells")
    if not isinstance(cells, list):
        raise UnreadableFileError(f"{path.name} is not a Jupyter notebook: it has no cells")
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", cell.get("input", ""))
            sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources
