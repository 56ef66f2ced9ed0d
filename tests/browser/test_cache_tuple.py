"""The cache inspector draws the course's tuple: cache[l] = (linear_cache, activation_cache),
linear_cache = (A_prev, W, b) and activation_cache = Z as framed groups, A[l] outside both
with a link to the next layer, the gradients as their own group, and each phase's reads
framed and named."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page, redraws, wait_redrawn

HEATMAPS = ["A_prev", "W", "b", "Z", "A", "dA", "dZ", "dW", "db"]


def box(page, test_id):
    return page.get_by_test_id(test_id).bounding_box()


def inside(inner, outer) -> bool:
    return (inner["x"] >= outer["x"] and inner["y"] >= outer["y"]
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"])


# frame -> (its label, the heatmaps it holds)
FRAMES = {"cache-linear": ("linear_cache = (A_prev, W, b)", {"A_prev", "W", "b"}),
          "cache-activation": ("activation_cache = Z", {"Z"})}


@pytest.mark.parametrize("width", [1280, 390])
def test_frames_hold_exactly_their_tensors_and_a_is_outside(page, server, width):
    page.set_viewport_size({"width": width, "height": 800})
    open_page(page, server, "?it=3&phase=forward-2&layer=2")
    cache = page.get_by_test_id("view-cache")
    expect(cache).to_contain_text("cache[2] = (linear_cache, activation_cache)")
    for test_id, (label, held) in FRAMES.items():
        frame = page.get_by_test_id(test_id)
        expect(frame).to_contain_text(label)
        outer = frame.bounding_box()
        for name in HEATMAPS:
            assert inside(box(page, f"cache-slot-{name}"), outer) == (name in held), (test_id, name)
    # A[2] is the next layer's A_prev, and says so
    expect(cache).to_contain_text("A[2] → A_prev of layer 3, stored in linear_cache[3]")
    grads = page.get_by_test_id("cache-gradients").bounding_box()
    assert all(inside(box(page, f"cache-slot-{n}"), grads) for n in ("dA", "dZ", "dW", "db"))


def test_the_link_of_a_opens_the_next_layers_linear_cache(page, server):
    open_page(page, server, "?it=3&phase=forward-1&layer=1")
    link = page.get_by_test_id("cache-next-layer")
    before = redraws(page)
    link.click()
    wait_redrawn(page, before)
    expect(page.get_by_test_id("layer-select")).to_have_value("2")
    expect(page).to_have_url(re.compile(r"[?&]layer=2"))
    cache = page.get_by_test_id("view-cache")
    expect(cache).to_contain_text("cache[2] = (linear_cache, activation_cache)")
    expect(page.get_by_test_id("cache-linear")).to_contain_text("A_prev = A[1]")
    # forward, layer 1 writes what linear_cache[2] keeps as A_prev
    expect(page.get_by_test_id("cache-reads")).to_contain_text(
        "which linear_cache[2] keeps as A_prev")
    link.click()
    expect(page.get_by_test_id("layer-select")).to_have_value("3")
    expect(link).to_be_hidden()  # the output layer: A[3] = ŷ goes to the cost
    expect(page.get_by_test_id("view-cache")).to_contain_text("A[3] = ŷ, read by the cost")


# (phase, layer, role of linear_cache's frame, of activation_cache's, heatmaps read,
# heatmaps written, words of the sentence)
PHASES = [
    ("backward-2", 2, "read", "read", {"A_prev", "W", "b", "Z", "dA"}, {"dZ", "dW", "db"},
     "backward, layer 2 reads cache[2]: Z from activation_cache for g′(Z), "
     "A_prev and W from linear_cache"),
    ("backward-1", 1, "read", "read", {"A_prev", "W", "b", "Z", "dA"}, {"dZ", "dW", "db"},
     "backward, layer 1 reads cache[1]"),
    ("forward-2", 2, "write", "write", {"A_prev", "W", "b"}, {"Z", "A"},
     "stores cache[2]: linear_cache = (A_prev, W[2], b[2]) and activation_cache = Z[2]"),
    ("backward-3", 2, "", "", set(), {"dA"}, "backward, layer 3 writes dA[2]"),
    ("update", 2, "", "", {"dW", "db"}, {"W", "b"}, "update reads dW[2] and db[2]"),
]


@pytest.mark.parametrize(("phase", "layer", "linear", "activation", "read", "written", "words"),
                         PHASES, ids=[f"{p[0]}-layer{p[1]}" for p in PHASES])
def test_each_phase_frames_and_names_the_cache_entries_it_reads(page, server, phase, layer, linear,
                                                                 activation, read, written, words):
    open_page(page, server, f"?it=4&phase={phase}&layer={layer}")
    expect(page.get_by_test_id("cache-reads")).to_contain_text(words)
    expect(page.get_by_test_id("cache-linear")).to_have_attribute("data-role", linear)
    expect(page.get_by_test_id("cache-activation")).to_have_attribute("data-role", activation)
    roles = page.locator(".slot:not([hidden])").evaluate_all(
        "slots => slots.map(s => [s.dataset.name, s.classList.contains('role-read'), "
        "s.classList.contains('role-write')])")
    assert {n for n, r, _ in roles if r} == read
    assert {n for n, _, w in roles if w} == written
    # the frame is drawn: a read frame's border is dashed blue, a written one orange
    style = page.get_by_test_id("cache-linear").evaluate("f => getComputedStyle(f).borderTopStyle")
    assert style == {"read": "dashed", "write": "solid", "": "solid"}[linear]
