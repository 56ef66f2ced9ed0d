"""static/js/views/model_view.js, run by Node: the decision boundary's caption speaks of a
P(y = 1) = 0.5 line only where the served grid has one."""

import pytest

from tests.node_runner import call_js, needs_node

pytestmark = needs_node


def grid(*rows):
    return {"output": {"data": [list(row) for row in rows]}}


@pytest.mark.parametrize(("boundary", "words"), [
    (grid([0.6, 0.7], [None, 0.9]), "no black line: P(y = 1) > 0.5 everywhere on the grid, so "
                                    "every point is predicted class 1"),
    (grid([0.1, 0.2], [0.3, 0.4]), "no black line: P(y = 1) < 0.5 everywhere on the grid, so "
                                   "every point is predicted class 0"),
    (grid([0.1, 0.7], [0.3, 0.4]), "black line: P(y = 1) = 0.5"),
    (grid([None, None]), "black line: P(y = 1) = 0.5"),  # nothing finite: the grey says so
    # a zero init's first step: exactly 0.5 everywhere, no line (and A > 0.5 is class 1)
    (grid([0.5, 0.5], [0.5, 0.5]), "no black line: P(y = 1) = 0.5 everywhere on the grid, a "
                                   "tie, so every point is predicted class 0"),
    (grid([0.5, 0.7], [0.5, 0.5]), "no black line: P(y = 1) ≥ 0.5 everywhere on the grid"),
    (grid([0.4, 0.5]), "black line: P(y = 1) = 0.5"),
])
def test_the_caption_names_the_line_only_where_the_grid_crosses_one_half(boundary, words):
    assert call_js("views/model_view.js", [["levelLine", boundary]]) == [words]
