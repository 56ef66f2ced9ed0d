"""Narrow interfaces (issue 16): no engine function takes more than six parameters, and none
hides more in **kwargs; a function that needs more is split, by phase where it has phases.

Parsed, not imported: every def and lambda in engine/. A method's self or cls is not counted.
"""

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[1] / "engine"
MAX_PARAMETERS = 6
# a **kwargs that is not a bag of options: each with its reason
ALLOWED_KEYWORDS = {
    ("check/child.py", "send"): "its keyword arguments are the fields of one JSON event",
    ("check/observe.py", "<lambda>"): "a no-op in np.random.seed's place takes what seed takes",
}


def _functions(tree):
    """(function node, whether it is defined in a class body) for every def and lambda."""
    methods = {id(node) for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)
               for node in cls.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield node, id(node) in methods


def signature_problems(source, path):
    """Every function of this source with too many parameters or an undeclared **kwargs."""
    problems = []
    for node, is_method in _functions(ast.parse(source)):
        args = node.args
        names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        if is_method and names and names[0] in ("self", "cls"):
            names = names[1:]
        name = getattr(node, "name", "<lambda>")
        where = f"{path}:{node.lineno} {name}"
        count = len(names) + (args.vararg is not None)
        if count > MAX_PARAMETERS:
            problems.append(f"{where} takes {count} parameters")
        if args.kwarg is not None and (path, name) not in ALLOWED_KEYWORDS:
            problems.append(f"{where} takes **{args.kwarg.arg}")
    return problems


def test_no_engine_function_takes_more_than_six_parameters_or_a_keyword_bag():
    problems = []
    for path in sorted(ENGINE.rglob("*.py")):
        problems += signature_problems(path.read_text(), str(path.relative_to(ENGINE)))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("source", "expected"), [
    ("def f(a, b, c, d, e, f, g):\n    pass\n", ["x.py:1 f takes 7 parameters"]),
    ("def f(a, *, b, c, d, e, f, g):\n    pass\n", ["x.py:1 f takes 7 parameters"]),
    ("def f(a, *rest, b, c, d, e, f):\n    pass\n", ["x.py:1 f takes 7 parameters"]),
    ("def f(a, **options):\n    pass\n", ["x.py:1 f takes **options"]),
    ("g = lambda a, b, c, d, e, f, g: a\n", ["x.py:1 <lambda> takes 7 parameters"]),
    ("class C:\n    def m(self, a, b, c, d, e, f):\n        pass\n", []),
    ("class C:\n    def m(self, a, b, c, d, e, f, g):\n        pass\n",
     ["x.py:2 m takes 7 parameters"]),
    ("def f(self, a, b, c, d, e, f):\n    pass\n", ["x.py:1 f takes 7 parameters"]),
])
def test_the_check_counts_what_a_caller_passes(source, expected):
    assert signature_problems(source, "x.py") == expected
