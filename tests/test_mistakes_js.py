"""static/js/mistakes.js, run by Node: one predicate per classic mistake of CONTRACT §7,
true for its own bug only, and the one place in the page that names a bug's id to test it."""

import re

import pytest

from engine.mistakes import BUGS
from tests.node_runner import STATIC_JS, call_js, needs_node

# (predicate, the bug it names)
PREDICATES = [
    ("cachesA", "activation_cache_holds_A"),
    ("dropsOneOverM", "missing_1_over_m"),
    ("skipsGPrime", "no_activation_derivative"),
    ("addsStep", "wrong_update_sign"),
    ("forgetsMask", "dropout_mask_forgotten_in_backward"),
    ("dropsL2Gradient", "l2_gradient_missing"),
]


def test_there_is_one_predicate_for_each_of_the_engines_mistakes():
    assert sorted(bug for _, bug in PREDICATES) == sorted(BUGS)


@needs_node
@pytest.mark.parametrize(("predicate", "bug"), PREDICATES, ids=[p for p, _ in PREDICATES])
def test_a_predicate_is_true_for_its_own_bug_only(predicate, bug):
    bugs = [*BUGS, None]
    got = call_js("mistakes.js", [[predicate, b] for b in bugs])
    assert got == [b == bug for b in bugs]


def test_no_other_module_compares_a_bug_with_its_name():
    """A page module asks mistakes.js, so that each mistake's test is written once."""
    names = "|".join(BUGS)
    compared = re.compile(rf"""[!=]==?\s*["']({names})["']|["']({names})["']\s*[!=]==?""")
    found = [f"{path.relative_to(STATIC_JS)}:{n}" for path in sorted(STATIC_JS.rglob("*.js"))
             if path.name != "mistakes.js"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if compared.search(line)]
    assert found == []
