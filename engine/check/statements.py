"""Which top-level statements of a learner's Python source the check keeps, and what it
notes of those it skips (module_pieces).

Parse, don't run: import statements, `def`s and `class`es, functions assigned without a
call (`sigmoid = lambda Z: ...`, `linear_backward = my_linear_backward` or `=
Backward.linear_backward`, each statement alone, not the rest of its line), assignments of
plain constants (`LR = 0.0075`, which a default argument may use), and assignments and
classes that run none of the learner's code, and call nothing but a few libraries'
functions (engine.check.safe_assignments) are kept. A course function assigned by a call
(`relu = np.vectorize(...)`) is noted as not checked, and one that aliases a name bound by
a line not run (`linear_forward = model.linear_forward` after `model = Model()`) is an
error. IPython lines (%magics, !shell commands) are left out where the source needs that
to parse.
"""

import ast
import re
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

# IPython's own lines: a %magic or !shell command (`x = %pwd`, `files = !ls` too), and help
# (`?obj`, `obj?`, `obj??`, `np.*rand*?`)
IPYTHON_LINE = re.compile(r"\s*(?:[%!?]|[\w.]+(?:\s*,\s*[\w.]+)*\s*=\s*[%!])|.*\?\s*$")
# lines blanked one parse at a time at most: a cell of more is read without them all
MAX_IPYTHON_LINES = 100
# cell magics whose body is Python; the body of any other (%%bash, %%html) is not
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}

class Piece(NamedTuple):
    # "import"; "constant" (a plain or computed one, or a class); "def"; or "alias" (a
    # course function's other name)
    kind: str
    name: str  # the function's or constant's name, or the import statement as written
    code: str  # the statement, after blank lines that keep its line numbers
    filename: str  # its file in tracebacks: the path, or "<name>, code cell 3"


def parse(source: str, filename: str) -> ast.Module:
    """The source's syntax tree; where it does not parse, without IPython's own syntax:
    a %%cell magic's whole cell unless its body is Python (%%time), then each line that
    the parser stops at and that is IPython's (IPYTHON_LINE), blanked so that line
    numbers stay. Only such lines go: a `% (i, cost)` that continues an expression is
    Python, and a line that is not IPython's raises the parser's own error."""
    try:
        return ast.parse(source, filename)
    except SyntaxError:
        pass
    lines = without_cell_magic(source).split("\n")
    for _ in range(MAX_IPYTHON_LINES):
        try:
            return ast.parse("\n".join(lines), filename)
        except SyntaxError as err:
            at = (err.lineno or 0) - 1
            if not (0 <= at < len(lines) and IPYTHON_LINE.match(lines[at])):
                raise
            lines[at] = ""
    return ast.parse("\n".join("" if IPYTHON_LINE.match(line) else line for line in lines),
                     filename)


def without_cell_magic(source: str) -> str:
    """The source without a %%cell magic: its whole cell unless its body is Python
    (%%time), whose magic line is blanked."""
    first = source.split("\n", 1)[0].strip()
    if not first.startswith("%%"):
        return source
    if first[2:].split(" ")[0] not in PYTHON_CELL_MAGICS:
        return ""
    return "\n" + source.split("\n", 1)[1] if "\n" in source else ""


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


UNRUN_ALIAS = ("`{name} = {value}` reads `{root}`, which {where} binds by running code that "
               "the check does not run (a call, or a class whose body runs code)")
UNRUN_ALIAS_HINT = ("Write `def {name}(...)` at the top level of your file, or take it from "
                    "the class (a staticmethod), not from an instance that a call makes.")


def names_at_start() -> dict[str, str]:
    """The names bound before a learner's first line, for engine.check.safe_assignments:
    the helpers, as the course's `from dnn_utils import ...` binds them (the child binds
    the engine's own, which any call may be handed)."""
    return dict.fromkeys(HELPERS, CONSTANT)


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
    # the names bound so far, for engine.check.safe_assignments: a notebook's, from cell to cell
    known = names_at_start() if known is None else known
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
