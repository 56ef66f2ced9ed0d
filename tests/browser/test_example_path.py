"""The network diagram follows one training example with the engine's own numbers: the
values it draws are the served step's column of that example (example=i, CONTRACT §4), and
the page computes none of them (it loads no forward pass of its own)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import is_run_post, open_page, redraws, wait_redrawn

LABEL = "#view-network"


def drawn_values(page) -> dict[str, list[float]]:
    """{"X": [...], "A[1]": [...], ...}: the diagram's neuron values from its text alternative."""
    text = page.get_attribute(LABEL, "aria-label")
    parts = text.split(": ", 1)[1].split("; ")
    values = {}
    for part in parts:
        name, numbers = part.split(" = ", 1)
        numbers = re.sub(r" \(\+\d+ more\)$", "", numbers)
        values[name] = [float("nan") if v == "not finite" else float(v)
                        for v in numbers.split(", ")]
    return values


def drawn_example(page) -> int:
    return int(re.search(r"example (\d+):", page.get_attribute(LABEL, "aria-label"))[1])


def full_step(page, server, run_id, t):
    return page.request.get(f"{server}/api/runs/{run_id}/steps/{t}").json()


def served_column(step, example) -> dict[str, list[float]]:
    """The same names from the full step record: column `example` of X, A[l] and dZ[l]."""
    j = step["batch"]["indices"].index(example)
    col = lambda t: [row[j] for row in t["data"]]  # noqa: E731
    out = {"X": col(step["batch"]["X"])}
    for entry in step["layers"]:
        out[f"A[{entry['l']}]"] = col(entry["A"])
        out[f"dZ[{entry['l']}]"] = col(entry["grads"]["dZ"])
    return out


def assert_drawn_equals_served(page, step, example):
    drawn, served = drawn_values(page), served_column(step, example)
    assert drawn, "the diagram shows no values"
    for name, values in drawn.items():
        # printed to 6 significant digits; 10 units per layer at most are drawn
        assert values == pytest.approx(served[name][:len(values)], rel=1e-5, abs=1e-12), name


def open_run(page, server, query):
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, query)
    return answer.value.json()["id"]


# (view, the names the diagram draws in it): every A in the cost phase, every dZ in the
# first backward phase's reach (backward of layer 1 has reached all layers)
PHASES = [("cost", ["X", "A[1]", "A[2]", "A[3]"]), ("backward-1", ["dZ[1]", "dZ[2]", "dZ[3]"])]


@pytest.mark.parametrize(("phase", "names"), PHASES, ids=["forward", "backward"])
def test_diagram_draws_the_served_column_of_the_example(page, server, phase, names):
    run_id = open_run(page, server, f"?it=5&ex=7&phase={phase}")
    assert drawn_example(page) == 7
    assert sorted(drawn_values(page)) == sorted(names)
    assert_drawn_equals_served(page, full_step(page, server, run_id, 5), 7)


def test_changing_the_example_changes_the_drawn_values(page, server):
    run_id = open_run(page, server, "?it=5&ex=7&phase=cost")
    before_values = drawn_values(page)
    before = redraws(page)
    page.locator("#example").select_option("12")
    wait_redrawn(page, before)
    expect(page).to_have_url(re.compile(r"[?&]ex=12"))
    assert drawn_example(page) == 12
    assert drawn_values(page) != before_values
    assert_drawn_equals_served(page, full_step(page, server, run_id, 5), 12)


def test_a_mini_batch_run_offers_only_the_batch_and_is_never_refused(page, server):
    refused = []
    page.on("response", lambda r: r.status >= 400 and refused.append(f"{r.status} {r.url}"))
    # example 5 is (almost surely) not in iteration 7's batch of 16: the page shows another
    run_id = open_run(page, server, "?batch_size=16&it=7&ex=5&phase=cost")
    for t in (7, 8):
        step = full_step(page, server, run_id, t)
        offered = page.locator("#example option").evaluate_all("os => os.map(o => Number(o.value))")
        assert offered == sorted(step["batch"]["indices"])
        shown = drawn_example(page)
        assert shown in step["batch"]["indices"]
        assert_drawn_equals_served(page, step, shown)
        if 5 not in step["batch"]["indices"]:  # the key names the example it shows instead
            expect(page.locator("#network-key")).to_contain_text(
                f"example 5 is not in this step's batch: showing example {shown}, the batch's "
                "first")
        before = redraws(page)
        page.get_by_test_id("step-next").click()
        wait_redrawn(page, before)
    page.wait_for_load_state("networkidle")  # the prefetched neighbours too
    assert refused == []
    assert any("example=" in url for url in page.recorder.requests)


def test_the_page_loads_no_forward_pass_of_its_own(page, server):
    open_page(page, server, "?it=3")
    page.wait_for_load_state("networkidle")
    scripts = [u for u in page.recorder.requests if u.endswith(".js")]
    assert any("step_frame.js" in u for u in scripts)
    assert not [u for u in scripts if "forward_pass" in u]


# (view, the tensor the edges draw, the layers whose range the key gives): the key gives the
# edges' range, which the colour bar (the neurons') does not; one range is the whole pass's,
# layers not reached yet included (backward 2 draws dW[2] and dW[3] on dW[1..3]'s)
EDGE_KEYS = [("?it=3&phase=backward-2&layer=2", "dW", (1, 2, 3),
              "one colour range for every layer"),
             ("?it=3&phase=update&layer=1&scale=tensor", "update", (1, 2, 3),
              "each layer its own colour range")]


@pytest.mark.parametrize(("scale", "words"), [
    # one range, the backward pass's: dW[1]'s, finite, which backward 1 draws next
    ("shared", "edges: dW, one colour range for every layer: ±{top}"),
    ("tensor", "edges: dW, each layer its own colour range: 0 where finite, grey where not, "
               "no finite value"),
])
def test_the_key_says_a_diverged_steps_edges_are_0_where_finite_and_grey_elsewhere(
        page, server, scale, words):
    """The divergence lesson's last step, backward at layer 2: the drawn edges are grey (not
    finite) or 0, and the key had said "all 0"."""
    run_id = open_run(page, server, "?dataset=sine&n_samples=200&hidden_layers=16,16"
                                    f"&learning_rate=2&steps=100&it=6&phase=backward-2&layer=2"
                                    f"&scale={scale}")
    layers = full_step(page, server, run_id, 6)["layers"]
    drawn = [v for entry in layers if entry["l"] >= 2
             for row in entry["grads"]["dW"]["data"] for v in row]
    assert None in drawn and {v for v in drawn if v is not None} == {0.0}
    top = max(abs(v) for row in layers[0]["grads"]["dW"]["data"] for v in row if v is not None)
    expect(page.locator("#network-key")).to_contain_text(
        words.format(top=f"{top:.1e}".replace("e+", "e")))


@pytest.mark.parametrize(("query", "field", "layers", "words"), EDGE_KEYS, ids=["shared", "own"])
def test_the_key_gives_the_edges_range_from_the_served_tensors(page, server, query, field,
                                                                layers, words):
    run_id = open_run(page, server, query)
    step = full_step(page, server, run_id, 3)
    tensors = [entry["grads"]["dW"] if field == "dW" else entry["update"]["W"]
               for entry in step["layers"] if entry["l"] in layers]
    tops = [max(abs(v) for row in t["data"] for v in row) for t in tensors]
    key = page.locator("#network-key")
    expect(key).to_contain_text(f"; edges: {'ΔW' if field == 'update' else field}, {words}: ")
    shown = re.search(r"colour range(?: for every layer)?: ([^;]*)", key.inner_text())[1]
    ranges = [float(text.lstrip("±")) for text in shown.split(", ")]
    expected = [max(tops)] if "every layer" in words else tops
    assert ranges == pytest.approx(expected, rel=0.05)
