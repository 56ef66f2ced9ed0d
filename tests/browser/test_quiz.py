"""Predict, then reveal (issue 13, point 4): with the quiz on, each phase that the learner walks
to asks one question about its structure before its views show; the reveal judges the answer
with this run's served numbers; the session keeps a score; the URL keeps the mode; phase play
waits at a question; the keyboard does it all. The right answers here come from the JSON API
and from the course's rules written out below, never from the page's own quiz.js."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import is_run_post, open_page
from tests.browser.test_accessibility import CONTRAST

NUMBER = r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
SHAPE = re.compile(r"^(dW|db|dZ|dA|Z|A)\[(\d+)\] : \? × \?$")
READS = re.compile(r"^Which does (.+) read\?$")
RELU = re.compile(r"^dZ\[(\d+)\] must be 0 wherever …$")
DIRECTION = re.compile(rf"^dW\[(\d+)\]\[(\d+), (\d+)\] = ({NUMBER}), (positive|negative)\. ")
OPTION_ID = re.compile(r"^(A_prev|dW|db|A|W|b|Z|D|Y)\b")
# the views that would give an answer away: hidden (in place) while a question is open
HELD = ["#view-network", "#view-cache", "#view-code", "#phase-io"]
DIVERGED = "?dataset=sine&hidden_layers=16,16&learning_rate=5&it=6"
SCORE_KEY = "backprop-lens:quiz-score"


def open_run(page, server, query):
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, query)
    return answer.value.json()


def card(page):
    return page.get_by_test_id("quiz-card")


def layer_tensor(page, server, run_id, t, layer, field, example=None):
    """One served tensor of step t (example=i: that example's column only)."""
    query = f"layers={layer}&fields={field}" + ("" if example is None else f"&example={example}")
    entry = page.request.get(f"{server}/api/runs/{run_id}/steps/{t}?{query}").json()["layers"][0]
    if field == "update":
        return entry["update"]["W"]
    return {**entry.get("linear_cache", {}), **entry.get("activation_cache", {}),
            **entry.get("grads", {}), **{k: entry[k] for k in ("A", "D") if k in entry}}[field]


def expected_reads(phase: str, run: dict) -> tuple[set, set]:
    """(what the phase must be said to read, what counts either way), in the course's terms."""
    config, L = run["config"], len(run["config"]["activations"])
    if phase.startswith("forward"):
        return {"A_prev", "W", "b"}, set()
    if phase == "cost":
        return {"A", "Y"} | ({"W"} if config["l2"] > 0 else set()), set()
    if phase == "update":
        return {"W", "b", "dW", "db"}, set()
    l = int(phase.rsplit(" ", 1)[1])
    must = {"A_prev", "W", "Z"} | ({"D"} if config["keep_prob"] < 1 and l < L else set())
    either = {"b"}  # linear_backward unpacks b but only uses its shape
    fused = {"sigmoid": "binary_cross_entropy", "softmax": "categorical_cross_entropy"}
    if l == L and fused.get(config["activations"][-1]) == config["loss"]:
        either = either | {"A"}  # the course's g′(Z) reads Z; only the shortcut A − Y reads A
    return must, either


def answer_key(page, server, run, t) -> dict:
    """The question on the card, solved from the API: {kind, right: [index], wrong: [index],
    says: text the reveal must hold}."""
    prompt = card(page).locator(".quiz-prompt").inner_text()
    labels = card(page).locator(".quiz-option span").all_inner_texts()
    phase = page.get_by_test_id("phase-label").inner_text()
    run_id, index = run["id"], lambda label: labels.index(label)
    if m := SHAPE.match(prompt):
        shape = layer_tensor(page, server, run_id, t, int(m[2]), m[1])["shape"]
        right = [index(f"{shape[0]} × {shape[1]}")]
        return {"kind": "shape", "right": right, "says": f"{shape[0]} × {shape[1]}"}
    if m := RELU.match(prompt):
        return {"kind": "relu", "right": [index(f"Z[{m[1]}] ≤ 0")],
                "says": f"wherever Z[{m[1]}] ≤ 0"}
    if m := DIRECTION.match(prompt):
        l, i, k = int(m[1]), int(m[2]), int(m[3])
        dW = layer_tensor(page, server, run_id, t, l, "dW")["data"][i][k]
        step = layer_tensor(page, server, run_id, t, l, "update")["data"][i][k]
        assert float(m[4]) == pytest.approx(dW, rel=1e-3)
        moved, way = ("down", "decreases") if step < 0 else ("up", "increases")
        return {"kind": "direction", "right": [index(f"{moved}: it {way}")],
                "says": f"moved {moved}", "step": step}
    assert READS.match(prompt), prompt
    must, _ = expected_reads(phase, run)
    ids = [OPTION_ID.match(label)[1] for label in labels]
    return {"kind": "reads", "right": [k for k, i in enumerate(ids) if i in must],
            "says": reads_sentence(page, server, run, t, phase)}


def reads_sentence(page, server, run, t, phase) -> str:
    """Words the reveal of a 'reads' question must hold, with a shape from the API."""
    L = len(run["config"]["activations"])
    if phase == "update":
        return f"update reads W[1..{L}], b[1..{L}], dW[1..{L}], db[1..{L}]"
    if phase == "cost":
        r, c = layer_tensor(page, server, run["id"], t, L, "A")["shape"]
        return f"cost reads A[{L}] = ŷ ({r} × {c})"
    l = int(phase.rsplit(" ", 1)[1])
    r, c = layer_tensor(page, server, run["id"], t, l, "W")["shape"]
    return f"W[{l}] ({r} × {c})"


def wrong_answer(key, labels_count):
    """Indices of a wrong answer: another choice, or for 'reads' one of the right ones alone."""
    if key["kind"] == "reads":
        return key["right"][:1]
    return [next(k for k in range(labels_count) if k not in key["right"])]


def visibility(page, selector):
    return page.eval_on_selector(selector, "el => getComputedStyle(el).visibility")


def assert_held(page, held):
    for selector in HELD:
        assert visibility(page, selector) == ("hidden" if held else "visible"), selector


def wait_for_question(page, phase_label):
    expect(page.get_by_test_id("phase-label")).to_have_text(phase_label)
    expect(card(page).locator(".quiz-title")).to_contain_text(f"Predict · {phase_label}")


PHASES_L3 = ["forward · layer 1", "forward · layer 2", "forward · layer 3", "cost",
             "backward · layer 3", "backward · layer 2", "backward · layer 1", "update"]


def test_each_phase_asks_holds_its_views_and_the_right_answers_score(page, server):
    run = open_run(page, server, "")
    page.get_by_test_id("quiz-toggle").click()
    expect(page).to_have_url(re.compile(r"[?&]quiz=1"))
    expect(page.get_by_test_id("quiz-toggle")).to_have_attribute("aria-pressed", "true")
    kinds = set()
    for k, phase in enumerate(PHASES_L3):
        wait_for_question(page, phase)
        assert_held(page, True)
        key = answer_key(page, server, run, 0)
        kinds.add(key["kind"])
        options = card(page).locator(".quiz-option")
        for i in key["right"]:
            options.nth(i).click()
        card(page).get_by_role("button", name="Check").click()
        expect(card(page).locator(".quiz-verdict")).to_have_text("✓ Right.")
        expect(card(page).locator(".quiz-area")).to_contain_text(key["says"])
        expect(page.get_by_test_id("quiz-score")).to_have_text(f"{k + 1} / {k + 1} this session")
        assert_held(page, False)
        if k < len(PHASES_L3) - 1:
            page.get_by_test_id("phase-next").click()
    # one iteration of the default run asks every kind of question
    assert kinds == {"shape", "reads", "relu", "direction"}
    # the URL keeps the mode; a reload asks again and the session's score stays
    page.reload()
    wait_for_question(page, "update")
    expect(page.get_by_test_id("quiz-score")).to_have_text("8 / 8 this session")
    page.get_by_test_id("quiz-toggle").click()
    expect(card(page)).to_be_hidden()
    expect(page).not_to_have_url(re.compile(r"quiz="))
    assert_held(page, False)


def test_the_keyboard_alone_answers_wrong_and_the_reveal_gives_this_runs_values(page, server):
    run = open_run(page, server, "?it=2&quiz=1")
    for k, phase in enumerate(PHASES_L3):
        wait_for_question(page, phase)
        key = answer_key(page, server, run, 2)
        count = card(page).locator(".quiz-option").count()
        for i in wrong_answer(key, count):
            page.keyboard.press(str(i + 1))
        page.keyboard.press("Enter")
        expect(card(page).locator(".quiz-verdict")).to_have_text("✗ Not quite.")
        expect(card(page).locator(".quiz-area")).to_contain_text(key["says"])
        expect(page.get_by_test_id("quiz-score")).to_have_text(f"0 / {k + 1} this session")
        if key["kind"] == "direction":  # the served ΔW, as the API has it
            text = card(page).inner_text()
            served = re.search(rf"served: ΔW\[\d+\]\[\d+, \d+\] = ({NUMBER})", text)
            assert float(served[1]) == pytest.approx(key["step"], rel=1e-3)
        if k < len(PHASES_L3) - 1:
            page.keyboard.press("Enter")  # goes on to the next phase
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 2 ")
    # the iteration keys still work, and the iteration alone asks nothing
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 3 ")
    expect(card(page).locator(".quiz-title")).to_have_text("Predict, then reveal")
    assert_held(page, False)
    page.keyboard.press("Shift+ArrowLeft")
    wait_for_question(page, "backward · layer 1")


def test_where_dz_is_zero_is_shown_with_the_served_z_and_dz(page, server):
    run = open_run(page, server, "?it=0&phase=backward-2&layer=2&quiz=1")
    wait_for_question(page, "backward · layer 2")
    expect(card(page).locator(".quiz-prompt")).to_have_text("dZ[2] must be 0 wherever …")
    card(page).locator(".quiz-option", has_text="Z[2] ≤ 0").click()
    page.keyboard.press("Enter")
    expect(card(page).locator(".quiz-verdict")).to_have_text("✓ Right.")
    rows = card(page).locator(".quiz-evidence tr")
    units = [int(u) for u in rows.nth(0).locator("th").all_inner_texts()[1:]]
    example = int(re.search(r"example (\d+)", rows.nth(0).locator("th").first.inner_text())[1])
    shown = {name: [float(v) for v in rows.nth(r).locator("td").all_inner_texts()]
             for r, name in ((1, "Z"), (2, "dA"), (3, "dZ"))}
    column = lambda name: layer_tensor(page, server, run["id"], 0, 2, name, example)["data"]  # noqa: E731
    served = {name: [row[0] for row in column(name)] for name in ("Z", "dA", "dZ")}
    assert any(served["Z"][i] <= 0 for i in units) and any(served["Z"][i] > 0 for i in units)
    for name, values in shown.items():  # printed to 3 significant digits
        assert values == pytest.approx([served[name][i] for i in units], rel=5e-3, abs=1e-12), name
    for i, dz in zip(units, shown["dZ"], strict=True):
        assert (dz == 0) == (served["Z"][i] <= 0)


def test_phase_play_waits_at_a_question_and_plays_on_after_the_reveal(page, server):
    run = open_run(page, server, "?quiz=1&pace=fast")
    wait_for_question(page, "forward · layer 1")
    play = page.get_by_test_id("phase-play")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(1500)  # three phases' time at the fast pace: it waits for the answer
    expect(page.get_by_test_id("phase-label")).to_have_text("forward · layer 1")
    assert_held(page, True)
    key = answer_key(page, server, run, 0)
    for i in key["right"]:
        page.keyboard.press(str(i + 1))
    page.keyboard.press("Enter")
    expect(card(page).get_by_role("button", name="Play on")).to_be_visible()
    page.keyboard.press("Enter")
    wait_for_question(page, "forward · layer 2")
    expect(play).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(1000)
    expect(page.get_by_test_id("phase-label")).to_have_text("forward · layer 2")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")


def test_space_on_an_answer_picks_it_and_does_not_start_playing(page, server):
    open_page(page, server, "?quiz=1")
    wait_for_question(page, "forward · layer 1")
    option = card(page).locator(".quiz-option").nth(1)
    option.focus()
    page.keyboard.press("Space")
    expect(option).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("play-toggle")).to_contain_text("Play")
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 0 ")


def test_a_diverged_run_asks_and_reveals_at_every_phase(page, server):
    open_page(page, server, DIVERGED + "&quiz=1")
    expect(page.get_by_test_id("alert")).to_contain_text("Training diverged at iteration 6")
    for phase in ["forward · layer 1", "forward · layer 2", "forward · layer 3", "cost",
                  "backward · layer 3", "backward · layer 2", "backward · layer 1", "update"]:
        wait_for_question(page, phase)
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        expect(card(page).locator(".quiz-verdict")).to_be_visible()
        text = card(page).inner_text()
        assert "NaN" not in text and "undefined" not in text, text
        assert_held(page, False)
        page.keyboard.press("Enter")


# (viewport, the card's top must be above): a projector and a phone
SCREENS = [((1280, 720), 720), ((390, 844), 844 // 2)]


@pytest.mark.parametrize(("size", "top_below"), SCREENS, ids=["1280x720", "390x844"])
def test_the_card_is_on_the_first_screen_and_nothing_moves_when_it_reveals(page, server, size,
                                                                          top_below):
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    open_page(page, server, "?quiz=1&phase=backward-2&layer=2")
    wait_for_question(page, "backward · layer 2")
    box = card(page).bounding_box()
    cache_top = page.get_by_test_id("view-cache").bounding_box()["y"]
    # the tensors' place under the card says why it is empty
    why = """() => { const s = getComputedStyle(document.getElementById('view-cache'), '::after');
      return s.visibility === 'visible' ? s.content : 'none'; }"""
    assert "hidden until you answer" in page.evaluate(why)
    assert 0 <= box["y"] < top_below and box["y"] + box["height"] <= height, box
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(card(page).locator(".quiz-verdict")).to_be_visible()
    assert card(page).bounding_box() == box
    assert page.get_by_test_id("view-cache").bounding_box()["y"] == cache_top
    assert page.evaluate(why) == "none"
    if width == 1280:  # the whole inspector stays on the projector's first screen
        cache = page.get_by_test_id("view-cache").bounding_box()
        assert cache["y"] + cache["height"] <= height, cache
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width


# the page's own question functions, imported in the page: (id, JS expression, expected value)
DIMS = "{dims: [2, 8, 8, 1], m: 320, L: 3}"
LABELS = ".options.map(o => o.label)"
PURE = [
    ("reads-forward", "[...q.readIds({kind: 'forward', l: 2}, 3, c)].sort()", ["A_prev", "W", "b"]),
    ("reads-backward-dropout", "[...q.readIds({kind: 'backward', l: 2}, 3, drop)].sort()",
     ["A_prev", "D", "W", "Z", "b", "dA"]),
    ("reads-output-no-mask", "[...q.readIds({kind: 'backward', l: 3}, 3, drop)].sort()",
     ["A_prev", "W", "Z", "b", "dA"]),
    ("reads-cost", "[...q.readIds({kind: 'cost', l: 3}, 3, c)].sort()", ["A", "Y"]),
    ("reads-cost-l2", "[...q.readIds({kind: 'cost', l: 3}, 3, {...c, l2: 0.1})].sort()",
     ["A", "W", "Y"]),
    ("reads-update", "[...q.readIds({kind: 'update', l: null}, 3, c)].sort()",
     ["W", "b", "dW", "db"]),
    ("strongest", "q.strongestEntry({data: [[0.1, null], [-0.3, 0.2]]}, {data: [[1, 1], [1, 1]]})",
     {"i": 1, "k": 0}),
    ("strongest-finite-update", "q.strongestEntry({data: [[0.1, -0.5]]}, {data: [[1, null]]})",
     {"i": 0, "k": 0}),
    ("strongest-none", "q.strongestEntry({data: [[0, null]]}, {data: [[0, 0]]})", None),
    # dW[2] of an 8 → 8 layer: its transpose is itself, and A_prev's shape is dZ's: each once
    ("shape-square-dW", f"s.shapeQuestion({{kind: 'backward', l: 2}}, {DIMS}, 3){LABELS}",
     ["8 × 8", "8 × 320", "8 × 1", "1 × 1"]),
    ("shape-dW-output",
     f"s.shapeQuestion({{kind: 'backward', l: 3}}, {DIMS}, 0).options.map(o => [o.label, o.right])",
     [["1 × 8", True], ["8 × 1", False], ["1 × 320", False], ["8 × 320", False]]),
    ("shape-cost", f"s.shapeQuestion({{kind: 'cost', l: 3}}, {DIMS}, 4){LABELS}",
     ["1 × 320", "1 × 1", "320 × 1"]),
]
JUDGE = """async () => {
  const q = await import('/static/js/quiz.js');
  const question = {options: [{id: 'a', right: true}, {id: 'b', right: null},
                              {id: 'c', right: false}]};
  return [[], ['a'], ['a', 'b'], ['b'], ['a', 'c']].map((p) => q.judge(question, new Set(p)).right);
}"""


@pytest.mark.parametrize(("expression", "expected"), [p[1:] for p in PURE],
                         ids=[p[0] for p in PURE])
def test_the_question_functions(page, server, expression, expected):
    page.goto(f"{server}/docs")  # a light page of the same origin imports the modules
    value = page.evaluate(f"""async () => {{
      const q = await import('/static/js/quiz.js'), s = await import('/static/js/quiz_shapes.js');
      const c = {{keep_prob: 1, l2: 0, optimizer: 'gd'}}, drop = {{...c, keep_prob: 0.8}};
      return {expression};
    }}""")
    assert value == expected


def test_judging_takes_every_right_answer_and_no_wrong_one(page, server):
    page.goto(f"{server}/docs")
    verdicts = page.evaluate(JUDGE)
    # nothing picked; the right one; with the "either" one; the "either" one alone; with a wrong one
    assert verdicts == [False, True, True, False, False]


def test_the_score_lives_in_the_session(page, server):
    open_page(page, server, "?quiz=1")
    wait_for_question(page, "forward · layer 1")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    stored = page.evaluate(f"() => JSON.parse(sessionStorage.getItem('{SCORE_KEY}'))")
    assert stored["answered"] == 1 and stored["right"] in (0, 1)
    expect(page.get_by_test_id("quiz-score")).to_have_text(f"{stored['right']} / 1 this session")


@pytest.mark.parametrize("revealed", [False, True], ids=["asked", "revealed"])
def test_the_cards_text_contrast_is_at_least_4_5(page, server, revealed):
    open_page(page, server, "?quiz=1&phase=backward-2&layer=2")
    wait_for_question(page, "backward · layer 2")
    if revealed:  # a wrong answer: the right one and the wrong one are both marked
        card(page).locator(".quiz-option", has_text="Z[2] > 0").click()
        page.keyboard.press("Enter")
        expect(card(page).locator(".quiz-verdict")).to_have_text("✗ Not quite.")
    assert page.evaluate(CONTRAST) == []


def test_on_a_phone_the_reveal_shows_its_whole_table(page, server):
    """The card asks in the height its reveal needs: the evidence table's last row, dZ, was
    cut off on a phone, in a card that scrolled inside."""
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, server, "?quiz=1&phase=backward-2&layer=2")
    wait_for_question(page, "backward · layer 2")
    assert card(page).get_attribute("data-kind") == "relu"
    box = card(page).bounding_box()
    card(page).locator(".quiz-option").nth(1).click()
    page.keyboard.press("Enter")
    expect(card(page).locator(".quiz-evidence")).to_be_visible()
    assert card(page).bounding_box() == box
    area = card(page).locator(".quiz-area")
    assert area.evaluate("e => e.scrollHeight <= e.clientHeight"), "the reveal scrolls"
