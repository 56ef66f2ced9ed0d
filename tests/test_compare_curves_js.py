"""static/js/views/compare_curves.js, run by Node: the comparison's R² caption says whose
line fell below the axis's −1, and how low, where the plot cannot show it."""

import pytest

from tests.node_runner import call_js, needs_node

pytestmark = needs_node


def run(name, r2, task="regression"):
    return {"name": name, "run": {"task": task}, "summary": {"train_r2": r2}}


@pytest.mark.parametrize(("runs", "words"), [
    # the divergence lesson: A's R² falls to −2e209, B's stays in (0, 1)
    ([run("A", [0.1, -5, -2e209, None]), run("B", [0.5, 0.6])],
     "; R² below −1 is off the plot: A's falls to −2e209"),
    ([run("A", [0.1, -0.5]), run("B", [0.5, 0.6])], ""),
    ([run("A", [-3.0]), run("B", [-40.0])],
     "; R² below −1 is off the plot: A's falls to −3, B's falls to −40"),
    ([run("A", None, "classification"), run("B", None, "classification")], ""),
])
def test_r2_below_the_axis_is_named(runs, words):
    assert call_js("views/compare_curves.js", [["belowTheAxis", runs]]) == [words]
