"""Honest colours: every heatmap's colour bar shows the exact range its colours span, from
the summary the server computed on the full tensors (never the block-averaged heatmap's
own maximum), for each of the scales shared, tensor, run and symlog; and under the default
shared scale a zero-init sigmoid run's tiny Z reads as near zero (near white) beside
X ≈ ±2, while per tensor it would not."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import is_run_post, open_page

FORWARD = ["A_prev", "W", "b", "Z", "A"]
GRADIENTS = ["dA", "dZ", "dW", "db"]
SYMLOG_EPSILON = 1e-3  # ε = the shared range / 1000


def step_top(summary, name, l, t):
    """max |value| of tensor `name` of layer l at step t, from the summary's statistics."""
    layers = summary["layers"]
    if name == "A_prev":
        if l == 1:
            return summary["X_max_abs"][t]
        name, l = "A", l - 1
    if name in ("Z", "A"):
        return max(abs(layers[l - 1][f"{name}_min"][t]), abs(layers[l - 1][f"{name}_max"][t]))
    return layers[l - 1][f"{name}_max_abs"][t]


def expected_tops(summary, scale, l, t):
    steps = len(summary["cost"])
    if scale == "run":
        return {n: max(step_top(summary, n, l, s) for s in range(steps))
                for n in FORWARD + GRADIENTS}
    tops = {n: step_top(summary, n, l, t) for n in FORWARD + GRADIENTS}
    if scale == "tensor":
        return tops
    shared = {g: max(tops[n] for n in group) for g, group in (("f", FORWARD), ("g", GRADIENTS))}
    return {n: shared["f" if n in FORWARD else "g"] for n in tops}


def shown_bars(page):
    return page.locator(".slot:not([hidden]) .colour-bar").evaluate_all("""bars => bars.map(b => ({
      name: b.closest('.slot').dataset.name, high: Number(b.dataset.high),
      low: Number(b.dataset.low), from: b.dataset.from, eps: b.dataset.eps,
      labels: [...b.querySelectorAll('.bar-ticks > span')].map(s => s.textContent)}))""")


def number(label):
    return float(label.split(" ")[0].replace("−", "-"))


CASES = [("shared", 1), ("shared", 2), ("tensor", 1), ("tensor", 3), ("run", 2), ("symlog", 2)]


@pytest.mark.parametrize(("scale", "layer"), CASES, ids=[f"{s}-layer{l}" for s, l in CASES])
def test_each_colour_bar_spans_the_served_range(page, server, scale, layer):
    t = 7
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, f"?it={t}&phase=forward-1&layer={layer}&scale={scale}")
    summary = page.request.get(f"{server}/api/runs/{answer.value.json()['id']}/summary").json()
    expect(page.locator("#scale")).to_have_value(scale)
    tops = expected_tops(summary, scale, layer, t)
    bars = shown_bars(page)
    assert {b["name"] for b in bars} == set(tops), "every heatmap has its colour bar"
    for bar in bars:
        top = tops[bar["name"]]
        assert bar["from"] == ("run" if scale == "run" else "step"), bar  # a served statistic
        assert bar["high"] == pytest.approx(top, rel=1e-12) and bar["low"] == -bar["high"], bar
        low, zero, high = bar["labels"]
        # numbers at both ends and 0 between them, printed to 2 digits
        assert number(high) == pytest.approx(top, rel=0.05) and number(low) == -number(high), bar
        assert zero.startswith("0")
        if scale == "symlog":
            assert float(bar["eps"]) == pytest.approx(SYMLOG_EPSILON * top, rel=1e-12)
            assert "ε" in zero
    expect(page.locator("#scale-note")).to_contain_text(f"colours ({scale})")


ZERO_INIT = "?init=zeros&activations=sigmoid,sigmoid,sigmoid&it=20&phase=forward-1&layer=1"
# the palest channel of every pixel of a heatmap, and the least pale one
PALENESS = """name => {
  const c = document.querySelector(`[data-testid=cache-slot-${name}]`);
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let least = 255;
  for (let k = 0; k < px.length; k += 4) least = Math.min(least, px[k], px[k + 1], px[k + 2]);
  return least;
}"""


@pytest.mark.parametrize(("scale", "z_near_white"),
                         [("shared", True), ("symlog", True), ("tensor", False)])
def test_a_zero_init_runs_tiny_z_reads_as_zero_beside_x(page, server, scale, z_near_white):
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, f"{ZERO_INIT}&scale={scale}")
    run_id = answer.value.json()["id"]
    Z = page.request.get(f"{server}/api/runs/{run_id}/steps/20?layers=1&fields=Z").json()
    z_top = max(abs(v) for row in Z["layers"][0]["activation_cache"]["Z"]["data"] for v in row)
    assert 0 < z_top < 1e-5  # the run this test is about: Z ≈ 1e-6, A ≈ 0.5, X ≈ ±2
    assert (page.evaluate(PALENESS, "Z") >= 235) == z_near_white
    assert page.evaluate(PALENESS, "A_prev") < 150  # X ≈ ±2 keeps its strong colours
    # the shared bar says that Z is faint, and how small it is; X is not faint
    middles = {bar["name"]: bar["labels"][1] for bar in shown_bars(page)}
    overlay = page.locator("#view-cache .slot[data-name=Z] .faint-overlay")
    if scale == "shared":
        assert "faint: its max" in middles["Z"]
        assert number(middles["Z"].split("its max ")[1]) == pytest.approx(z_top, rel=0.05)
        # and over the heatmap, in sight where nothing hovers (a projector, a phone)
        expect(overlay).to_be_visible()
        expect(overlay).to_contain_text("near white: max |x| ")
        assert number(overlay.text_content().split("|x| ")[1]) == pytest.approx(z_top, rel=0.05)
    else:
        assert "faint" not in middles["Z"]
        expect(overlay).to_be_hidden()
    assert "faint" not in middles["A_prev"]
    expect(page.locator("#view-cache .slot[data-name=A_prev] .faint-overlay")).to_be_hidden()


def test_a_scale_the_page_does_not_know_falls_back_to_shared(page, server):
    highs = []
    for scale in ("shared", "per_run"):  # per_run: an old link's name
        open_page(page, server, f"?it=7&layer=2&scale={scale}")
        expect(page.locator("#scale")).to_have_value("shared")
        highs.append({bar["name"]: bar["high"] for bar in shown_bars(page)})
    assert highs[0] == highs[1]
    assert highs[0]["Z"] == highs[0]["A"] and highs[0]["dZ"] == highs[0]["dW"]


# every shown label of the bars under the heatmaps whose text is cut ("−9.8e…"), and the
# text each bar shows
CLIPPED_LABELS = """() => [...document.querySelectorAll('.slot:not([hidden]) .bar-ticks > span')]
  .filter(s => s.offsetParent !== null && s.scrollWidth > s.clientWidth + 1)
  .map(s => `${s.closest('.slot').dataset.name}: ${s.textContent}`)"""
SHOWN_TEXT = """() => Object.fromEntries([...document.querySelectorAll('.slot:not([hidden])')]
  .map(s => [s.dataset.name, [...s.querySelectorAll('.bar-ticks > span')]
    .filter(span => span.offsetParent !== null)
    .map(span => getComputedStyle(span, '::before').content.replace(/^none$/, '').replace(/"/g, '')
                 + span.innerText).join(' ')]))"""
HUGE = "?dataset=sine&hidden_layers=16,16&learning_rate=5&it=6&phase=forward-3&layer=3"


@pytest.mark.parametrize("width", [1280, 390])
def test_a_narrow_bar_shows_a_huge_range_whole(page, server, width):
    """sine at α = 5: A[2] reaches ±9.8e250 at its last step, and its bar under a heatmap
    80 px wide has no room for "−9.8e250  0 · own max  9.8e250": it says "±9.8e250" whole
    rather than three clipped labels; b's bar, beside its heatmap, keeps all three."""
    page.set_viewport_size({"width": width, "height": 800})
    open_page(page, server, HUGE)
    page.wait_for_function(
        "() => document.querySelector('.slot[data-name=A_prev] .colour-bar.tight')")
    assert page.evaluate(CLIPPED_LABELS) == []
    shown = page.evaluate(SHOWN_TEXT)
    assert shown["A_prev"].strip() == "±9.8e250", shown
    assert "9.8e250" in shown["b"] and "−9.8e250" in shown["b"], shown


def test_a_bar_too_narrow_for_its_one_number_takes_it_smaller_and_whole(page, server):
    """The divergence lesson's last stop in large text at 1280×720: W[2]'s bar, 60 px wide,
    cut "±2.2e299" to "±2.2e2…", which reads as ±220."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?lesson=divergence&tour=4&big=1")
    page.wait_for_function("() => document.querySelector('.slot[data-name=W] .colour-bar.cramped')")
    assert page.evaluate(CLIPPED_LABELS) == []
    assert page.evaluate(SHOWN_TEXT)["W"].strip() == "±2.2e299"


@pytest.mark.parametrize(("query", "name", "said"), [
    ("?init=zeros&it=5&phase=backward-1&layer=1", "dW", "all 0"),  # a zero init's ReLU layer
    (HUGE, "dZ", "no finite value"),  # the diverged step never ran its backward
    # the divergence lesson's diverged step: dW[2]'s finite cells are 0, the rest grey
    ("?dataset=sine&n_samples=200&hidden_layers=16,16&learning_rate=2&steps=100&it=6"
     "&phase=backward-2&layer=2&scale=tensor", "dW", "finite: all 0"),
])
def test_a_bar_of_no_range_says_what_the_tensor_holds(page, server, query, name, said):
    open_page(page, server, query)
    ticks = page.locator(f".slot[data-name={name}] .bar-ticks")
    expect(ticks).to_have_text(said)


def test_a_bar_that_said_all_0_shows_its_range_once_it_has_one(page, server):
    """dom.setText and setHTML on one label: "all 0" written as text, then the range's "0"
    as HTML, which its cache took for already shown ("−1.8e200  all 0  1.8e200")."""
    open_page(page, server, "?dataset=sine&batch_size=16&learning_rate=10&steps=200&it=137")
    ticks = page.locator(".slot[data-name=dA] .bar-ticks")
    expect(ticks).to_have_text("all 0")
    page.get_by_test_id("phase-next").click()
    expect(ticks).to_have_text(re.compile(r"^−\S+0\S+$"))
    expect(ticks).not_to_contain_text("all")


# the digits lesson's output layer: softmax + cross-entropy, dA[2] = −Y/A reaches ~1e10
DIGITS_OUT = ("?dataset=digits&hidden_layers=32&learning_rate=0.1&batch_size=64&steps=30"
              "&it=0&phase=backward-2&layer=2")


@pytest.mark.parametrize("bug", [None, "activation_cache_holds_A"])
def test_a_fused_outputs_dA_keeps_its_own_range_beside_the_gradients(page, server, bug):
    """dZ[L] = A − Y is the output layer's point; training never computes its dA[L] = −Y/A,
    which would wash dZ, dW and db out of a shared range. A run with a mistake goes through
    dA[L]: there it shares the range."""
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, DIGITS_OUT + (f"&bug={bug}" if bug else ""))
    summary = page.request.get(f"{server}/api/runs/{answer.value.json()['id']}/summary").json()
    tops = {n: step_top(summary, n, 2, 0) for n in GRADIENTS}
    assert tops["dA"] > 1e9  # the case this is about: A → 0 at some true class
    bars = {b["name"]: b for b in shown_bars(page)}
    rest = max(tops[n] for n in ("dZ", "dW", "db"))
    note = page.locator("#scale-note")
    if bug is None:
        assert tops["dA"] > 1e3 * rest
        assert bars["dA"]["high"] == pytest.approx(tops["dA"], rel=1e-12)
        for name in ("dZ", "dW", "db"):
            assert bars[name]["high"] == pytest.approx(rest, rel=1e-12), name
        expect(note).to_contain_text("(A[2], probabilities, and dA[2], which the fused "
                                     "dZ = A − Y does not use, each its own)")
    else:
        for name in GRADIENTS:
            assert bars[name]["high"] == pytest.approx(tops["dA"], rel=1e-12), name
        expect(note).to_contain_text("(A[2], probabilities, its own)")


@pytest.mark.parametrize(("query", "L"), [
    (DIGITS_OUT.replace("phase=backward-2", "phase=forward-2"), 2),
    ("?n_samples=200&hidden_layers=8,8&learning_rate=2&steps=100&bug=wrong_update_sign"
     "&it=99&phase=cost&layer=3", 3)], ids=["softmax", "climbing-sigmoid"])
def test_a_probability_output_keeps_its_own_range_beside_its_logits(page, server, query, L):
    """A[L] of a sigmoid or softmax output holds probabilities; in the layer's shared range,
    set by logits of ±17 or ±130, a tour's "ten probabilities that sum to 1" and "A[3] is
    exactly 1" drew white. It keeps its own range, and the note says so; Z[L] keeps the
    forward tensors' range."""
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, query)
    info = answer.value.json()
    summary = page.request.get(f"{server}/api/runs/{info['id']}/summary").json()
    t = int(re.search(r"it=(\d+)", query)[1])
    A, Z = step_top(summary, "A", L, t), step_top(summary, "Z", L, t)
    assert A <= 1 and Z > 10 * A  # the case this is about
    bars = {b["name"]: b for b in shown_bars(page)}
    assert bars["A"]["high"] == pytest.approx(A, rel=1e-12)
    assert bars["Z"]["high"] >= Z * (1 - 1e-12)  # the forward tensors' shared range
    expect(page.locator("#scale-note")).to_contain_text(f"(A[{L}], probabilities")


# the diverged step has no served statistic for some tensors (own max), and its Z[2] of
# 16 × 160 is block-averaged (italic); an ordinary step has neither
@pytest.mark.parametrize("query", ["?lesson=divergence&it=6&phase=update&layer=1",
                                   "?lesson=divergence&it=6&phase=forward-2&layer=2",
                                   "?it=3&phase=forward-1&layer=1"])
def test_the_note_says_what_a_bars_own_max_and_italic_numbers_mean(page, server, query):
    """A teacher met "0 · own max" and italic numbers with no word of what they meant: the
    note under the inspector says, where a bar shows them, and only then."""
    open_page(page, server, query)
    bars = [b for b in shown_bars(page) if b["high"] > 0]
    italic = page.locator(".slot:not([hidden]) .colour-bar.approx").count() > 0
    note = page.locator("#scale-note")
    expect(note).to_contain_text("colours (")
    own = any(b["from"] == "heatmap" for b in bars)
    assert own == ("“own max” on a bar: its range is the largest value drawn" in note.inner_text())
    assert own == any("own max" in " ".join(b["labels"]) for b in bars)
    assert italic == ("italic numbers: from the drawn block means" in note.inner_text())
    assert (own or italic) == ("lesson=divergence" in query)  # the cases are what they say


def test_the_zero_init_lessons_faint_gradients_say_so_over_their_heatmaps(page, server):
    """The zeros-symmetry lesson's second stop: dW[2]'s four −0.003125 are near white beside
    dZ[2]'s ±0.5, as its words say; Z[2], exactly 0 everywhere, says "all 0"."""
    open_page(page, server, "?lesson=zeros-symmetry&tour=2")
    overlay = "#view-cache .slot[data-name={}] .faint-overlay"
    expect(page.locator(overlay.format("dW"))).to_have_text("near white: max |x| 0.0031")
    expect(page.locator(overlay.format("Z"))).to_have_text("all 0")
    expect(page.locator(overlay.format("dZ"))).to_be_hidden()
