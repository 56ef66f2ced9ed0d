"""static/js/views/loss_view.js, run by Node: the score axis's ticks, and on a phone's
narrow plot no label in the corner where the last iteration's stands ("300⁰")."""

import pytest

from tests.node_runner import call_js, needs_node

pytestmark = needs_node


@pytest.mark.parametrize(("args", "ticks"), [
    ([[0, 1.02], 0.2, False], [0, 0.2, 0.4, 0.6, 0.8, 1]),
    ([[0, 1.02], 0.2, True], [0.2, 0.4, 0.6, 0.8, 1]),
    ([[-1, 1.02], 0.5, False], [-1, -0.5, 0, 0.5, 1]),
    ([[-1, 1.02], 0.5, True], [-0.5, 0, 0.5, 1]),
    ([[-0.3, 1.02], 0.5, False], [0, 0.5, 1]),
    ([[-0.3, 1.02], 0.5, True], [0, 0.5, 1]),  # 0 stands well above the foot: kept
])
def test_the_score_axis_ticks(args, ticks):
    assert call_js("views/loss_view.js", [["rightTicks", *args]]) == [ticks]
