"""Read a learner's .py file or .ipynb notebook: its text, in its encoding; a notebook's
code cells, each read alone (engine.check.statements keeps the imports, constants and
top-level functions, and runs nothing), with the names bound so far carried from cell to
cell. A cell that does not parse is noted and skipped, and the other cells are read; a
course function whose cell does not parse is `broken`: the check reports it as an error,
not as missing.
"""

import io
import json
import re
import tokenize
from pathlib import Path
from typing import NamedTuple

from engine.check.course_functions import NAMES
from engine.check.statements import Piece, module_pieces, names_at_start, unchecked

# a `def` line in a cell that does not parse, found without the parser
DEF_LINE = re.compile(r"^[ \t]*def[ \t]+(\w+)[ \t]*\(", re.MULTILINE)
# what ast.parse raises besides SyntaxError: RecursionError or MemoryError on code nested
# thousands deep ('1+' * 200000), ValueError on a null byte (Python 3.11)
PARSE_ERRORS = (SyntaxError, RecursionError, MemoryError, ValueError)


class UnreadableFileError(ValueError):
    """The file cannot be read as Python or as a notebook; the message says why."""


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


PARSE_HINT = ("Python cannot parse that cell: run it in Jupyter to see where, and look just "
              "above that line for a bracket, quote or colon left open.")
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
    known = names_at_start()  # the names bound so far, from cell to cell
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
