"""engine.layout (ParamLayout): θ's tensors as views, one vector or a stack of them. (Not
test_layout.py: tests/browser has one, of the page's layout.)"""

import numpy as np

from engine.layout import ParamLayout

DIMS = [3, 4, 2]


def test_views_are_the_tensors_in_order_and_write_through():
    layout = ParamLayout(DIMS)
    theta = np.arange(layout.size, dtype=float)
    views = layout.views(theta)
    assert [(name, v.shape) for name, v in views.items()] == [
        ("W1", (4, 3)), ("b1", (4, 1)), ("W2", (2, 4)), ("b2", (2, 1))]
    np.testing.assert_array_equal(layout.flatten(views), theta)
    views["b1"][2, 0] = -1.0
    assert theta[12 + 2] == -1.0  # b1 follows W1's 12 entries


def test_stacked_views_give_each_thetas_tensors():
    layout = ParamLayout(DIMS)
    thetas = np.random.default_rng(0).normal(size=(3, layout.size))
    stacked = layout.stacked_views(thetas)
    for k, theta in enumerate(thetas):
        for name, tensor in layout.views(theta).items():
            np.testing.assert_array_equal(stacked[name][k], tensor)
    assert stacked["W2"].shape == (3, 2, 4) and stacked["b2"].shape == (3, 2, 1)
