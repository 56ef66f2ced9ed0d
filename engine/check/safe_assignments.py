"""Which top-level assignments and classes of a learner's file the check may run: those that
compute a constant, a named tuple or a type alias from what is already there, without
running the learner's code, reading or writing a file, or training.

`EPS = np.finfo(float).eps`, `Cache = namedtuple("Cache", "A W b")`, `FORWARD = {"relu":
relu}`, `Array = np.ndarray` run; `X, Y = load_data()`, `best = min(rates, key=train)`,
`d = np.load("x.npy")` and `train_x = train_x_flatten / 255` (a name the check did not
bind: it would only fail) do not. The names bound so far are `known`: each name with what
it is, the dotted path it was imported from ("numpy", "numpy.load"), CONSTANT (the file's
own values) or FUNCTION (the file's own functions and classes, which a call must not be
handed).
"""

import ast
import builtins

from engine.check.course_functions import NAMES

CONSTANT, FUNCTION = "", "function"
# the libraries whose functions such an assignment may call, and the builtins
SAFE_MODULES = {"numpy", "math", "cmath", "collections", "typing", "typing_extensions",
                "functools", "operator", "itertools", "dataclasses", "enum", "types",
                "numbers", "fractions", "decimal"}
SAFE_BUILTINS = {"dict", "list", "tuple", "set", "frozenset", "float", "int", "bool", "str",
                 "complex", "range", "zip", "len", "abs", "min", "max", "sum", "round",
                 "enumerate", "sorted", "reversed", "type", "object", "slice", "staticmethod",
                 "classmethod", "property"}
# ... of which these only keep what they are handed, and never call it: a function may be
# handed to them (`ACT = dict(relu=relu)`), not to the others (`min(rates, key=train)`)
KEEPERS = {"dict", "list", "tuple", "set", "frozenset", "zip", "enumerate", "reversed",
           "staticmethod", "classmethod", "property", "functools.partial",
           "types.SimpleNamespace", "collections.OrderedDict"}
# ... but none whose dotted path holds one of these: they read or write files, or load code
UNSAFE_PARTS = {"load", "loadtxt", "genfromtxt", "fromfile", "fromregex", "memmap", "save",
                "savez", "savez_compressed", "savetxt", "tofile", "dump", "open", "lib",
                "ctypeslib", "f2py", "testing", "distutils", "open_memmap", "load_library",
                "DataSource", "system", "popen"}


def dotted(node: ast.expr) -> list[str] | None:
    """["np", "random", "randn"] of a dotted name (`np.random.randn`), else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def imported_from(node: ast.stmt) -> dict[str, str]:
    """The names an import statement binds, each with the dotted path it stands for
    (`import numpy as np`: np -> numpy; `from numpy import load as ld`: ld -> numpy.load).
    A star import binds no name that can be told."""
    if isinstance(node, ast.Import):
        return {(alias.asname or alias.name.split(".")[0]):
                (alias.name if alias.asname else alias.name.split(".")[0])
                for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return {(alias.asname or alias.name): f"{node.module}.{alias.name}"
                for alias in node.names if alias.name != "*"}
    return {}


def evaluated(node: ast.AST):
    """The nodes of an expression that run when it is evaluated: not a lambda's body,
    which runs only when called."""
    if isinstance(node, ast.Lambda):
        yield from evaluated(node.args)
        return
    yield node
    for child in ast.iter_child_nodes(node):
        yield from evaluated(child)


def _safe_call(call: ast.Call, known: dict[str, str]) -> bool:
    """Whether a call is of a SAFE_MODULES function (by the path its name was imported
    from) or a SAFE_BUILTIN, none of its path's parts UNSAFE, and hands it no function to
    call (no lambda, and none of the file's own functions) unless it is one of KEEPERS."""
    path = dotted(call.func)
    if path is None:
        return False
    origin = known.get(path[0])
    if origin is None:
        full = path if len(path) == 1 and path[0] in SAFE_BUILTINS else None
    else:
        full = [*origin.split("."), *path[1:]] if origin not in (CONSTANT, FUNCTION) else None
    if full is None or (len(full) > 1 and full[0] not in SAFE_MODULES) or \
            UNSAFE_PARTS & set(full[1:]):
        return False
    if ".".join(full) in KEEPERS:
        return True
    handed = [*call.args, *(k.value for k in call.keywords)]
    return not any(isinstance(n, ast.Lambda) or (isinstance(n, ast.Name)
                                                 and known.get(n.id) == FUNCTION)
                   for arg in handed for n in ast.walk(arg))


def safe_value(value: ast.expr, known: dict[str, str]) -> bool:
    """Whether an expression may be evaluated: it reads only names bound before it (or
    builtins, or a comprehension's own variables) and makes only safe calls."""
    walked = list(ast.walk(value))
    if any(isinstance(n, ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr) for n in walked):
        return False
    bound = {n.id for n in walked if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for n in evaluated(value):
        if isinstance(n, ast.Name) and n.id not in known and n.id not in bound \
                and not hasattr(builtins, n.id):
            return False
        if isinstance(n, ast.Call) and not _safe_call(n, known):
            return False
    return True


def target_names(target: ast.expr) -> list[str]:
    """`a` -> ["a"]; `a, b` -> ["a", "b"]; anything else (`a.b`, `a[0]`) -> []."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List) and \
            all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts]
    return []


def assignment(node: ast.stmt) -> tuple[list, ast.expr | None]:
    """(targets, value) of an assignment with a value (`x = v`, `x: T = v`), else
    ([], None)."""
    if isinstance(node, ast.Assign):
        return node.targets, node.value
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return [node.target], node.value
    return [], None


def computed_names(node: ast.stmt, known: dict[str, str]) -> list[str]:
    """The names an assignment binds (plain names, or tuples of them; none a course
    function's) where its value is safe_value; else []."""
    targets, value = assignment(node)
    if value is None:
        return []
    per_target = [target_names(target) for target in targets]
    names = [name for names in per_target for name in names]
    if not all(per_target) or set(names) & set(NAMES) or not safe_value(value, known):
        return []
    return names


def _safe_decorator(decorator: ast.expr, known: dict[str, str]) -> bool:
    """Whether a decorator may be applied: it is called with what it decorates, so it is
    a safe call's function (`@staticmethod`, `@functools.lru_cache`), or a safe call's
    result (`@dataclass(frozen=True)`)."""
    if isinstance(decorator, ast.Call):
        return _safe_call(decorator, known)
    return _safe_call(ast.Call(func=decorator, args=[], keywords=[]), known)


def safe_class(node: ast.ClassDef, known: dict[str, str]) -> bool:
    """Whether a class may be defined: its bases and keywords are safe values, its
    decorators safe ones, and its body holds only defs, a docstring, `pass`, annotations
    and assignments of safe values (a body runs when the class is made: `data = train(1)`
    would train)."""
    heads = [*node.bases, *(k.value for k in node.keywords)]
    if not all(safe_value(head, known) for head in heads) or \
            not all(_safe_decorator(d, known) for d in node.decorator_list):
        return False
    inside = {**known, node.name: FUNCTION}
    for statement in node.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.Pass):
            if all(_safe_decorator(d, inside) for d in getattr(statement, "decorator_list", [])):
                continue
            return False
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        if isinstance(statement, ast.AnnAssign) and statement.value is None:
            continue
        value = getattr(statement, "value", None)
        if not isinstance(statement, ast.Assign | ast.AnnAssign) or \
                not safe_value(value, inside):
            return False
    return True
