"""The cost's box on the network diagram ("J = …", the cost phase): clear of every neuron
and of the colour key's name up the bar's left side, at a projector's and a phone's size.
A teacher saw it over a deep net's last hidden layer in the presenter layout, and over
the key's "A"."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page

CASES = [  # (query, viewport, Plotly figures shown)
    ("?lesson=divergence&it=6&phase=cost&layout=presenter", (1280, 720), 1),
    ("?lesson=divergence&it=6&phase=cost&layout=presenter", (1024, 768), 1),
    ("?lesson=divergence&it=6&phase=cost", (390, 844), None),
    ("?lesson=he-vs-course&tour=4&layout=presenter", (1280, 720), 1),
    ("?lesson=vanishing-sigmoid&it=0&phase=cost&layout=presenter", (1280, 720), 1),
    ("?lesson=softmax-digits&phase=cost", (390, 844), None),
    ("?phase=cost", (1280, 720), None),
]


def _apart(box, centre, radius) -> bool:
    """Whether a circle keeps off a rectangle [left, top, right, bottom]."""
    left, top, right, bottom = box
    x, y = centre
    dx, dy = max(left - x, 0, x - right), max(top - y, 0, y - bottom)
    return dx * dx + dy * dy > radius * radius


@pytest.mark.parametrize(("query", "viewport", "plots"), CASES,
                         ids=[f"{q.split('=')[1].split('&')[0]}-{v[0]}" for q, v, _ in CASES])
def test_the_cost_stands_clear_of_neurons_and_the_keys_name(page, server, query, viewport,
                                                               plots):
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    open_page(page, server, query, **({} if plots is None else {"plots": plots}))
    canvas = page.locator("[data-testid=view-network] canvas[data-cost]")
    expect(canvas).to_have_count(1)
    drawn = json.loads(canvas.get_attribute("data-cost"))
    box = drawn["box"]
    assert box[2] <= drawn["key"], drawn
    touched = [n for n in drawn["neurons"] if not _apart(box, n, drawn["radius"])]
    assert not touched, (box, touched)
    assert drawn["size"] >= 12, drawn
