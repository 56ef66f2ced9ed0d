"""static/js/compare_labels.js, run by Node: two compared runs are named by how their
normalized configs differ, field by field, in a few plain words."""

import pytest

from engine.config import normalize_config
from tests.node_runner import call_js, needs_node

pytestmark = needs_node

# (run A's choices, run B's choices, label of A, label of B)
CASES = [
    ({"learning_rate": 0.5}, {"learning_rate": 2.0}, "lr 0.5", "lr 2"),
    ({"bug": "missing_1_over_m"}, {}, "bug missing_1_over_m", "correct code"),
    ({"batch_size": 32}, {}, "batch 32", "batch full"),
    ({"hidden_layers": [16, 16]}, {}, "layers 16,16", "layers 8,8"),
    ({"optimizer": "adam", "learning_rate": 0.01}, {},
     "optimizer adam, lr 0.01", "optimizer gd, lr 0.5"),
    ({}, {}, "same config", "same config"),
    # more than three fields differ: the first three, then "…"
    ({"init": "zeros", "seed": 2, "l2": 0.1, "steps": 20}, {},
     "init zeros, λ = 0.1, steps 20, …", "init he, λ = 0, steps 300, …"),
]


@pytest.mark.parametrize(("a", "b", "label_a", "label_b"), CASES,
                         ids=[f"{a_}-{b_}" for _, _, a_, b_ in CASES])
def test_runs_are_named_by_what_differs(a, b, label_a, label_b):
    configs = [normalize_config(a), normalize_config(b)]
    assert call_js("compare_labels.js", [["runLabels", *configs]]) == [[label_a, label_b]]


def test_the_differing_fields_are_all_named():
    a = normalize_config({"init": "zeros", "seed": 2, "l2": 0.1, "steps": 20})
    fields = call_js("compare_labels.js", [["differingFields", a, normalize_config({})]])[0]
    assert sorted(fields) == ["init", "l2", "seed", "steps"]
