"""static/js/views/formula_view.js, run by Node: a sum's terms as written out, where the
terms with a factor 0 (a ReLU's off units) are counted rather than shown, since they had
filled the four shown terms with (0.2631)(0) and hidden those that make the value."""

import pytest

from tests.node_runner import call_js, needs_node

pytestmark = needs_node


@pytest.mark.parametrize(("args", "text"), [
    ([[[1, 2], [3, 4]]], "(1)(2) + (3)(4)"),
    ([[[0.26, 0], [0.5, 0.1], [0.3, 0], [1, 2], [3, 4], [5, 6], [7, 8], [1, 1]]],
     "(0.5)(0.1) + (1)(2) + (3)(4) + (5)(6) + … (2 more terms; 2 terms with a factor 0 left "
     "out)"),
    ([[[0, 2], [1, 2], [3, 4], [5, 6], [7, 8]]],
     "(1)(2) + (3)(4) + (5)(6) + (7)(8) (1 term with a factor 0 left out)"),
    ([[[0, 2], [3, 0]]], "0  (all 2 terms have a factor 0)"),
    # a sum over a batch of which only the first columns are at hand: shown as they come
    ([[[0, 2], [3, 4]], 10], "(0)(2) + (3)(4) + … (8 more terms)"),
    # ...and if each of those has a factor 0, the value comes from the others: said so
    ([[[0, 2], [3, 0]], 320], "(0)(2) + (3)(0) + … (318 more terms; the sum comes from "
     "those: the 2 terms shown are 0)"),
    # ...unless the sum is exactly 0 (a ReLU unit dead on the whole batch): from no others
    ([[[0, 2], [3, 0]], 320, True], "(0)(2) + (3)(0) + … (318 more terms)"),
])
def test_terms_with_a_factor_0_are_counted_not_shown(args, text):
    assert call_js("views/formula_view.js", [["termsOf", *args]]) == [text]
