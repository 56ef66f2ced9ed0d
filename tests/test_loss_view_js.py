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


@pytest.mark.parametrize("cost", [
    {"type": "linear", "range": [-0.0346, 0.7277]},  # a cost from 0.69 down, padded below 0
    {"type": "linear", "range": [-5.0, 100.0]},
])
def test_the_accuracy_axis_stands_its_zero_level_with_the_costs(cost):
    """The two zeros had stood 20 px apart, so that an accuracy read against the cost's
    grid was off."""
    [(low, high)] = call_js("views/loss_view.js", [["accuracyRange", cost]])
    c_low, c_high = cost["range"]
    assert high == 1.02
    assert -low / (high - low) == pytest.approx(-c_low / (c_high - c_low), abs=1e-12)


@pytest.mark.parametrize("cost", [{"type": "log", "range": [-3, 2]},
                                  {"type": "linear", "range": [0.5, 0.9]}])
def test_an_axis_without_a_zero_leaves_accuracy_from_0_to_1(cost):
    assert call_js("views/loss_view.js", [["accuracyRange", cost]]) == [[0, 1.02]]
