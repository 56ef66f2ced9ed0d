"""The README's Python examples run, and every `# expression = value` comment in them holds.

A comment `# expression = value  (a note)` states what `expression` holds once the lines
above it have run: a number, a list, a tuple or True/False, written as Python. Numbers
match to the digits written; a list that ends in `...` is a prefix. So the README and the
code cannot drift apart.
"""

import ast
import io
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)\n```", README, flags=re.S)
CLAIM = re.compile(r"#\s*(?P<expr>.+?) = (?P<value>.+?)(?:\s{2,}.*)?$")


def claims(source: str) -> list[tuple[int, str, str]]:
    """(line, expression, value) of every comment that states a value."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and (match := CLAIM.match(token.string)):
            found.append((token.start[0], match["expr"], match["value"]))
    return found


def numeric(x) -> bool:
    """A number or a list of numbers (not True/False), compared to the digits written."""
    if isinstance(x, list):
        return all(numeric(item) for item in x)
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def check(expr: str, value: str, namespace: dict):
    actual = eval(expr, namespace)  # the README's own expression, in its own namespace
    prefix = value.rstrip("]").rstrip().endswith(", ...")
    expected = ast.literal_eval(value.replace(", ...", "") if prefix else value)
    if prefix:
        actual = list(actual)[:len(expected)]
    if numeric(expected):
        decimals = max((len(d) for d in re.findall(r"\.(\d+)", value)), default=0)
        np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=0,
                                   atol=0.5 * 10.0**-decimals, err_msg=expr)
    else:
        assert actual == expected, f"{expr} is {actual!r}, the README says {value}"


def run_checking_claims(source: str) -> tuple[dict, int]:
    """Run the block statement by statement, checking each claim once the statements
    before it have run; the block's namespace and the number of claims checked."""
    namespace, pending = {}, claims(source)
    statements = ast.parse(source).body
    for statement in [*statements, None]:
        upto = statement.lineno if statement else float("inf")
        while pending and pending[0][0] < upto:
            check(*pending.pop(0)[1:], namespace)
        if statement:
            exec(compile(ast.Module([statement], []), "README.md", "exec"), namespace)
            # a claim on a statement's own last line is about that statement's result
            while pending and pending[0][0] <= statement.end_lineno:
                check(*pending.pop(0)[1:], namespace)
    return namespace, len(claims(source))


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_a_readme_example_runs_and_its_comments_hold(index):
    _, checked = run_checking_claims(BLOCKS[index])
    assert checked >= 3


def test_the_course_example_has_one_output_per_label():
    """AL must have Y's shape: broadcasting would hide a (3, m) AL against a (1, m) Y."""
    namespace, _ = run_checking_claims(BLOCKS[0])
    assert namespace["AL"].shape == namespace["Y"].shape
    assert np.ndim(namespace["cost"]) == 0


def test_the_course_example_uses_what_it_imports():
    """Every name the first example imports is used (compute_cost included)."""
    tree = ast.parse(BLOCKS[0])
    imported = {alias.asname or alias.name for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) for alias in node.names}
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert imported <= used


@pytest.mark.parametrize(("value", "actual", "holds"), [
    ("0.69310351", 0.6931035069907482, True),
    ("0.69310352", 0.6931035069907482, False),
    ("[1.5, 2.25, ...]", [1.5, 2.25, 3.0], True),
    ("[1.5, 2.5]", [1.5, 2.25], False),
    ("(1, 4)", (1, 4), True),
    ("(3, 4)", (1, 4), False),
    ("True", False, False),
    ("['dA0', 'dW1']", ["dA0", "dW1"], True),
    ("['dA0', 'dW1']", ["dA0", "dW2"], False),
])
def test_claims_are_checked_to_the_digits_written(value, actual, holds):
    if holds:
        check("x", value, {"x": actual})
    else:
        with pytest.raises(AssertionError):
            check("x", value, {"x": actual})
