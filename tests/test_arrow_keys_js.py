"""static/js/arrow_keys.js, run by Node: where an arrow key moves the focus in a plot's
tools and the lessons menu."""

import pytest

from tests.node_runner import call_js, needs_node

pytestmark = needs_node
UP_DOWN = {"ArrowDown": 1, "ArrowUp": -1}

# (key, modifiers, focused k of n, options, the index to focus or None)
MOVES = [
    ("ArrowRight", {}, 0, 6, {}, 1),
    ("ArrowDown", {}, 2, 6, {}, 3),
    ("ArrowLeft", {}, 0, 6, {}, 0),  # no wrap: it stays
    ("ArrowLeft", {}, 0, 6, {"wrap": True}, 5),
    ("ArrowRight", {}, 5, 6, {"wrap": True}, 0),
    ("Home", {}, 4, 6, {}, 0),
    ("End", {}, 1, 6, {}, 5),
    ("ArrowDown", {}, -1, 16, {"moves": UP_DOWN}, 0),  # from the menu's toggle
    ("ArrowUp", {}, -1, 16, {"moves": UP_DOWN}, 0),
    ("ArrowRight", {}, 3, 16, {"moves": UP_DOWN}, None),  # not one of its keys
    ("ArrowLeft", {"altKey": True}, 3, 6, {}, None),  # the browser's Back
    ("ArrowRight", {"shiftKey": True}, 3, 6, {}, None),  # the page's next phase
    ("Enter", {}, 3, 6, {}, None),
    ("ArrowDown", {}, -1, 0, {}, None),  # nothing to focus
]


@pytest.mark.parametrize(("key", "modifiers", "k", "n", "options", "to"), MOVES)
def test_arrow_target(key, modifiers, k, n, options, to):
    event = {"key": key, **modifiers}
    assert call_js("arrow_keys.js", [["arrowTarget", event, k, n, options]]) == [to]
