"""The page computes no network maths (issue 12): every number it shows is served by the
engine, whose numbers the tests check against finite differences. A scan of static/js for
the tell-tale pieces of a forward or backward pass."""

import re
from pathlib import Path

import pytest

STATIC_JS = Path(__file__).resolve().parent.parent / "static" / "js"
SOURCES = sorted(STATIC_JS.rglob("*.js"))

# (what it would be, the pattern): activations, their slopes, softmax, a pass over layers
NETWORK_MATHS = [
    ("sigmoid, softmax or a loss", r"Math\.exp\s*\("),
    ("tanh", r"Math\.tanh\s*\("),
    ("a cross-entropy", r"Math\.log\s*\("),
    ("the old forward pass module", r"forward_pass"),
    ("a forward or backward pass", r"\b(forwardColumn|backwardColumn|forwardMany|layerForward)\b"),
    ("an activation or its slope", r"\b(activate|activationSlope)\s*\("),
]


def test_the_page_has_javascript_to_scan():
    assert len(SOURCES) > 10
    assert not (STATIC_JS / "forward_pass.js").exists()


@pytest.mark.parametrize(("what", "pattern"), NETWORK_MATHS, ids=[w for w, _ in NETWORK_MATHS])
def test_no_network_maths_in_the_page(what, pattern):
    found = [f"{path.relative_to(STATIC_JS)}:{n}" for path in SOURCES
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(pattern, line)]
    assert found == [], f"{what} computed on the page: {found}"
