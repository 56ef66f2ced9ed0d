"""Lessons in the page (CONTRACT §5 `lessons`, `lesson-panel`; §7): the menu lists the
server's lessons, choosing one opens its run, its view and its panel beside the views, next
and back walk its tour, the URL restores it, and its words are shown as text."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PAGE_PLOTS, is_run_post, open_page
from tests.browser.test_accessibility import CONTRAST

# the boxes the layout tests compare, and the page's horizontal scroll
BOXES = """() => {
  const box = (sel) => { const e = document.querySelector(sel); if (!e || e.hidden) return null;
    const r = e.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height}; };
  return {panel: box('[data-testid=lesson-panel]'), network: box('[data-testid=view-network]'),
    cache: box('[data-testid=view-cache]'), controls: box('.controls'), header: box('header.top'),
    scrollWidth: document.scrollingElement.scrollWidth};
}"""


def served_lessons(page, server):
    return page.request.get(f"{server}/api/lessons").json()


def lesson_named(lessons, lesson_id):
    return next(lesson for lesson in lessons if lesson["id"] == lesson_id)


def longest_tour(lessons):
    """The lesson whose tour has the most steps (the first such): the one to walk."""
    return max(lessons, key=lambda lesson: len(lesson["tour"]))


def phase_label(key):
    """The phase label the page shows for a phase key ("backward-2" -> "backward · layer 2")."""
    kind, _, layer = key.partition("-")
    return f"{kind} · layer {layer}" if layer else kind


def last_step(page, server, lesson):
    """The last step of the lesson's run, once it has trained (the page may still be
    training it: its info then counts the steps done so far)."""
    deadline = time.monotonic() + 120
    while True:
        info = page.request.get(f"{server}/api/runs/{lesson['run_id']}").json()
        if info["status"] not in ("pending", "running") or time.monotonic() > deadline:
            return info["num_steps"] - 1
        time.sleep(0.2)


def view_at(lesson, n):
    """The view of tour step n: the lesson's own where it opens (n = 0), else the step's."""
    return {**lesson["view"], **(lesson["tour"][n - 1]["view"] if n > 0 else {})}


def expect_view(page, view, last):
    """The step controls show `view`, its iteration clamped to the run's `last` step."""
    expect(page.get_by_test_id("step-label")).to_contain_text(f"iteration {min(view['it'], last)} ")
    expect(page.get_by_test_id("phase-label")).to_have_text(phase_label(view["phase"]))
    expect(page.get_by_test_id("layer-select")).to_have_value(str(view["layer"]))


def expect_tour_step(page, lesson, n):
    panel = page.get_by_test_id("lesson-panel")
    steps = len(lesson["tour"])
    expect(panel.get_by_test_id("lesson-count")).to_have_text(f"{n} / {steps}")
    say = panel.get_by_test_id("lesson-say")
    if n > 0:
        expect(say).to_have_text(lesson["tour"][n - 1]["say"])
    else:
        expect(say).to_contain_text(f"A tour of {steps} step")
    prev = expect(page.get_by_test_id("lesson-prev"))
    if n > 0:
        prev.to_be_enabled()
    else:
        prev.to_be_disabled()
    question = panel.get_by_test_id("lesson-question")
    if n == steps:
        expect(question).to_have_text(f"Question: {lesson['question']}")
        expect(page.get_by_test_id("lesson-next")).to_be_disabled()
    else:
        expect(question).to_be_hidden()
        expect(page.get_by_test_id("lesson-next")).to_be_enabled()


def choose(page, lesson_id):
    page.locator("#lessons-toggle").click()
    page.locator(f"[data-testid=lessons] button[data-lesson='{lesson_id}']").click()


def test_the_menu_lists_every_lesson_of_the_server_by_title(page, server):
    open_page(page, server)
    lessons = served_lessons(page, server)
    menu = page.get_by_test_id("lessons")
    expect(menu).to_be_visible()
    choices = menu.locator("button[data-lesson]")
    expect(choices.first).to_be_hidden()
    page.locator("#lessons-toggle").click()
    expect(page.locator("#lessons-toggle")).to_have_attribute("aria-expanded", "true")
    expect(choices).to_have_text([lesson["title"] for lesson in lessons])
    # a click elsewhere closes the list
    page.locator("h1").click()
    expect(choices.first).to_be_hidden()


def test_choosing_divergence_opens_its_run_view_and_panel(page, server):
    open_page(page, server)
    lesson = lesson_named(served_lessons(page, server), "divergence")
    with page.expect_response(is_run_post) as answer:
        choose(page, "divergence")
    assert answer.value.json()["id"] == lesson["run_id"]
    panel = page.get_by_test_id("lesson-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_have_text(lesson["title"])
    expect(panel).to_contain_text(lesson["summary"])
    expect(panel.locator("li")).to_have_text(lesson["look_for"])
    expect(page.get_by_test_id("alert")).to_contain_text("diverged")
    expect_tour_step(page, lesson, 0)
    expect_view(page, view_at(lesson, 0), last_step(page, server, lesson))
    expect(page).to_have_url(re.compile(r"[?&]lesson=divergence(&|$)"))
    expect(page.locator("button[data-lesson=divergence]")).to_have_attribute("aria-current", "true")


def test_next_and_back_walk_the_tour_and_a_reload_restores_the_step(page, server):
    open_page(page, server)
    lesson = longest_tour(served_lessons(page, server))
    steps = len(lesson["tour"])
    assert steps >= 2, "a lesson's tour has steps to walk"
    choose(page, lesson["id"])
    last = last_step(page, server, lesson)
    for n in range(steps + 1):
        expect_tour_step(page, lesson, n)
        expect_view(page, view_at(lesson, n), last)
        if n < steps:
            page.get_by_test_id("lesson-next").click()
    page.get_by_test_id("lesson-prev").click()
    expect_tour_step(page, lesson, steps - 1)
    expect_view(page, view_at(lesson, steps - 1), last)
    expect(page).to_have_url(re.compile(rf"[?&]tour={steps - 1}(&|$)"))
    page.reload()
    expect_tour_step(page, lesson, steps - 1)
    expect_view(page, view_at(lesson, steps - 1), last)
    expect(page.get_by_test_id("lesson-panel").locator("h2")).to_have_text(lesson["title"])


def test_a_bare_link_opens_a_bug_lesson_beside_its_correct_run(page, server):
    """A teacher's link names only the lesson and a tour step: the page trains the lesson's
    own run (its id is the lesson's run_id), moves to that step, and puts the correct run
    beside it."""
    lessons = served_lessons(page, server)
    lesson = next(lesson for lesson in lessons if lesson["config"].get("bug"))
    n = min(2, len(lesson["tour"]))
    with page.expect_response(is_run_post) as answer:
        page.goto(f"{server}/?lesson={lesson['id']}&tour={n}")
    assert answer.value.json()["id"] == lesson["run_id"]
    expect_tour_step(page, lesson, n)
    expect_view(page, view_at(lesson, n), last_step(page, server, lesson))
    expect(page).to_have_url(re.compile(rf"[?&]compare={re.escape(lesson['compare']['run_id'])}(&|$)"))
    expect(page).to_have_url(re.compile(rf"[?&]bug={lesson['config']['bug']}(&|$)"))


def test_a_link_written_by_hand_with_a_view_opens_the_lessons_run_at_it(page, server):
    """?lesson=divergence&it=2&phase=forward-1 names no config: the page took it for one of
    its own URLs and showed the divergence lesson over the default moons run."""
    lesson = lesson_named(served_lessons(page, server), "divergence")
    with page.expect_response(is_run_post) as answer:
        page.goto(f"{server}/?lesson=divergence&it=2&phase=forward-1")
    assert answer.value.json()["id"] == lesson["run_id"]
    expect_tour_step(page, lesson, 0)
    expect_view(page, {"it": 2, "phase": "forward-1", "layer": 1}, last_step(page, server, lesson))
    expect(page.locator("#run-summary")).to_contain_text("sine")
    expect(page).to_have_url(re.compile(r"[?&]dataset=sine(&|$)"))


def test_an_unknown_lesson_shows_the_alert_and_the_run_without_it(page, server):
    open_page(page, server, "?lesson=no-such-lesson")
    expect(page.get_by_test_id("alert")).to_contain_text("no lesson named “no-such-lesson”")
    expect(page.get_by_test_id("lesson-panel")).to_be_hidden()
    expect(page.locator("#run-summary")).to_contain_text("moons")
    expect(page).not_to_have_url(re.compile("lesson="))


def test_the_keyboard_opens_walks_and_escapes_a_lesson(page, server):
    open_page(page, server)
    lessons = served_lessons(page, server)
    k, lesson = next((k, lesson) for k, lesson in enumerate(lessons) if len(lesson["tour"]) >= 2)
    toggle = page.locator("#lessons-toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=lessons] button[data-lesson]").first).to_be_visible()
    for _ in range(k + 1):
        page.keyboard.press("Tab")
    expect(page.locator(f"button[data-lesson='{lesson['id']}']")).to_be_focused()
    page.keyboard.press("Enter")
    panel = page.get_by_test_id("lesson-panel")
    expect(panel).to_be_visible()
    expect_tour_step(page, lesson, 0)
    # the panel takes the focus; its buttons follow in Tab order (back is disabled at 0)
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("lesson-close")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("lesson-next")).to_be_focused()
    page.keyboard.press("Enter")
    expect_tour_step(page, lesson, 1)
    # space presses the panel's buttons too, as on any button: it does not start the player
    page.keyboard.press(" ")
    expect_tour_step(page, lesson, 2)
    expect(page.get_by_test_id("play-toggle")).to_have_text("▶ Play")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(page).not_to_have_url(re.compile("lesson="))


def test_the_open_menu_shows_every_lesson_at_720_and_closes_when_tabbed_out_of(page, server):
    """At 1280 × 720 the list's 70 % cap cut off the last lesson (with no scroll bar until
    touched); and Tab out of the open list left it open over the inspector."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?layout=presenter", plots=1)
    page.locator("#lessons-toggle").click()
    last = page.locator("[data-testid=lessons] button[data-lesson]").last
    box = last.bounding_box()
    assert box["y"] + box["height"] <= 720, box
    list_box = page.locator("#lesson-list").bounding_box()
    assert list_box["y"] + list_box["height"] <= 720, list_box
    last.focus()
    page.keyboard.press("Tab")
    expect(page.locator("#lesson-list")).to_be_hidden()
    expect(page.locator("#lessons-toggle")).to_have_attribute("aria-expanded", "false")


def test_arrows_walk_the_open_menu_and_leave_the_page_alone(page, server):
    """↓ from the toggle walks into the lessons, ↑ and End too; no arrow changes the
    phase or the iteration behind the open menu."""
    open_page(page, server, "?it=3")
    choices = page.locator("[data-testid=lessons] button[data-lesson]")
    page.locator("#lessons-toggle").focus()
    page.keyboard.press("Enter")
    expect(choices.first).to_be_visible()
    for key, k in (("ArrowDown", 0), ("ArrowDown", 1), ("ArrowUp", 0), ("End", choices.count() - 1),
                   ("Home", 0), ("ArrowRight", 0), ("ArrowLeft", 0)):
        page.keyboard.press(key)
        expect(choices.nth(k)).to_be_focused()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 3 ")
    expect(page.get_by_test_id("phase-label")).to_have_text("forward · layer 1")
    page.keyboard.press("Escape")
    expect(choices.first).to_be_hidden()
    page.keyboard.press("ArrowRight")  # closed, the page's arrows work again
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 4 ")


def test_lesson_text_is_shown_as_text_never_as_html(page, server):
    config = page.request.get(f"{server}/api/options").json()["default_config"]
    bait = '<img src="/no-such.png" onerror="window.__lessonRan = 1">'
    view = {"it": 1, "phase": "cost", "layer": 3}
    lesson = {"id": "bait", "title": f"Title {bait}", "summary": f"Summary <b>{bait}</b>",
              "config": config, "run_id": "", "view": view, "look_for": [f"look {bait}"],
              "tour": [{"view": view, "say": f"say {bait}"}], "question": f"question {bait}",
              "compare": None, "label": "this run"}
    page.route("**/api/lessons", lambda route: route.fulfill(json=[lesson]))
    open_page(page, server, "?lesson=bait&tour=1")
    panel = page.get_by_test_id("lesson-panel")
    expect(panel.locator("h2")).to_have_text(lesson["title"])
    expect(panel).to_contain_text(lesson["summary"])
    expect(panel.locator("li")).to_have_text(lesson["look_for"])
    expect(panel.get_by_test_id("lesson-say")).to_have_text(lesson["tour"][0]["say"])
    expect(panel.get_by_test_id("lesson-question")).to_have_text(f"Question: {lesson['question']}")
    page.locator("#lessons-toggle").click()
    expect(page.locator("button[data-lesson=bait]")).to_have_text(lesson["title"])
    markup = "[data-testid=lessons] img, [data-testid=lesson-panel] :is(img, b)"
    assert page.locator(markup).count() == 0
    assert page.evaluate("() => window.__lessonRan") is None


def test_beside_the_views_at_1280x720_and_the_menu_adds_no_line(page, server):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server)
    before = page.evaluate(BOXES)
    # the menu shares the header's one line: hidden, the header is as tall
    page.evaluate("() => { document.querySelector('[data-testid=lessons]').hidden = true; }")
    assert page.evaluate(BOXES)["header"]["height"] == before["header"]["height"]
    page.evaluate("() => { document.querySelector('[data-testid=lessons]').hidden = false; }")
    lesson = longest_tour(served_lessons(page, server))
    choose(page, lesson["id"])
    expect(page.get_by_test_id("lesson-panel")).to_be_visible()
    expect_view(page, view_at(lesson, 0), last_step(page, server, lesson))
    boxes = page.evaluate(BOXES)
    panel = boxes["panel"]
    for view in ("network", "cache"):
        box = boxes[view]
        apart = (panel["left"] >= box["right"] or panel["right"] <= box["left"]
                 or panel["top"] >= box["bottom"] or panel["bottom"] <= box["top"])
        assert apart, (view, box, panel)
    assert panel["left"] >= boxes["cache"]["right"], "the panel is beside the views, at the right"
    assert 0 <= panel["top"] < 720 and panel["right"] <= 1280
    assert boxes["scrollWidth"] <= 1280
    page.locator("#lessons-toggle").click()
    assert page.evaluate(BOXES)["scrollWidth"] <= 1280
    page.locator("#lessons-toggle").click()
    # the lesson adds no line to the controls: closed, its run's controls are as tall (a
    # deeper network than the first page's has a longer phase strip, its own matter)
    page.get_by_test_id("lesson-panel").locator(".lesson-close").click()
    expect(page.get_by_test_id("lesson-panel")).to_be_hidden()
    assert page.evaluate(BOXES)["controls"]["height"] == boxes["controls"]["height"]


def test_on_a_phone_the_panel_is_above_the_views_and_nothing_scrolls_sideways(page, server):
    page.set_viewport_size({"width": 390, "height": 844})
    lesson = longest_tour(served_lessons(page, server))
    open_page(page, server, f"?lesson={lesson['id']}")
    expect(page.get_by_test_id("lesson-panel")).to_be_visible()
    boxes = page.evaluate(BOXES)
    assert boxes["panel"]["bottom"] <= boxes["network"]["top"], boxes
    assert boxes["scrollWidth"] <= 390
    page.locator("#lessons-toggle").click()
    expect(page.locator(f"button[data-lesson='{lesson['id']}']")).to_be_visible()
    assert page.evaluate(BOXES)["scrollWidth"] <= 390
    box = page.locator("#lesson-list").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390



# test_accessibility's contrast check over the menu and the panel only
LESSON_CONTRAST = CONTRAST.replace("document.querySelectorAll('body *')",
                                   "document.querySelectorAll('.lessons *, .lesson-panel *')")


def test_the_panel_and_the_menu_read_at_4_5_to_1(page, server):
    assert LESSON_CONTRAST != CONTRAST
    lesson = longest_tour(served_lessons(page, server))
    open_page(page, server, f"?lesson={lesson['id']}&tour={len(lesson['tour'])}")
    expect(page.get_by_test_id("lesson-question")).to_be_visible()
    page.locator("#lessons-toggle").click()
    expect(page.locator("#lesson-list")).to_be_visible()
    assert page.evaluate(LESSON_CONTRAST) == []


def test_a_lesson_opened_as_the_first_frame_is_drawn_asks_nothing_of_the_old_run(page, server):
    """The first frame's neighbours were fetched for the default run (3 layers) with the
    lesson's layer 5, a 422 in the console: they wait for the lesson's own run."""
    page.goto(f"{server}/")
    page.wait_for_function("() => performance.getEntriesByName('step-redraw').length > 0")
    choose(page, "he-vs-course")
    expect(page.get_by_test_id("layer-select").locator("option")).to_have_count(6)
    page.wait_for_load_state("networkidle")
    assert page.recorder.errors == []  # (the fixture checks it too)


def test_a_lesson_without_a_second_run_closes_the_last_ones_comparison(page, server):
    open_page(page, server)
    lessons = served_lessons(page, server)
    beside = next(lesson for lesson in lessons if lesson.get("compare"))
    alone = next(lesson for lesson in lessons if not lesson.get("compare"))
    compare = page.locator("#view-compare")
    choose(page, beside["id"])
    expect(compare).to_be_visible()
    expect(page.get_by_test_id("compare-legend")).to_contain_text("run B")
    choose(page, alone["id"])
    expect(page.get_by_test_id("lesson-panel").locator("h2")).to_have_text(alone["title"])
    expect(compare).to_be_hidden()
    expect(page.get_by_test_id("compare-toggle")).to_have_attribute("aria-pressed", "false")
    # the toggle still opens an empty panel that waits for a choice
    page.get_by_test_id("compare-toggle").click()
    expect(compare).to_be_visible()


def test_on_a_phone_each_step_of_the_tour_keeps_the_views_it_moved_in_sight(page, server):
    """A phone stacks the panel above the views: past the first step the panel keeps only
    the step's words and comes up under the sticky bar, with the network in sight."""
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, server)
    lesson = lesson_named(served_lessons(page, server), "divergence")
    choose(page, "divergence")
    expect_tour_step(page, lesson, 0)
    panel = page.get_by_test_id("lesson-panel")
    expect(panel.locator(".lesson-look")).to_be_visible()
    for n in range(1, len(lesson["tour"]) + 1):
        page.get_by_test_id("lesson-next").click()
        expect_tour_step(page, lesson, n)
        expect(panel.locator(".lesson-look")).to_be_hidden()
        page.wait_for_function("() => window.scrollY > 0")
        expect(page.get_by_test_id("lesson-next" if n < len(lesson["tour"]) else "lesson-prev")
               ).to_be_in_viewport()
        network = page.get_by_test_id("view-network").bounding_box()
        assert network["y"] < 844 - 150, (n, network)
        page.wait_for_timeout(500)  # the bar has taken the step's words: the panel is below it
        bar = page.locator(".controls").bounding_box()
        assert panel.bounding_box()["y"] >= bar["y"] + bar["height"] - 1, n
    page.get_by_test_id("lesson-prev").click()
    for _ in range(len(lesson["tour"]) - 1):
        page.get_by_test_id("lesson-prev").click()
    expect_tour_step(page, lesson, 0)
    expect(panel.locator(".lesson-look")).to_be_visible()  # the first step: the intro again


@pytest.mark.parametrize("query", ["", "?big=1"], ids=["text", "large-text"])
def test_on_a_touch_phone_the_menu_stays_on_the_screen(browser, server, query):
    """On a touch phone the toggle ends the header's first line (or starts a line, in large
    text): either way the list's whole titles fit on the screen, and the page does not
    widen."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                              is_mobile=True)
    try:
        page = ctx.new_page()
        open_page(page, server, query)
        page.locator("#lessons-toggle").click()
        box = page.locator("#lesson-list").bounding_box()
        assert box["x"] >= 8 and box["x"] + box["width"] <= 390 - 8 + 0.5, box
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        cut = page.evaluate("""() => [...document.querySelectorAll('#lesson-list button')]
            .filter((b) => b.scrollWidth > b.clientWidth + 1).map((b) => b.textContent)""")
        assert cut == []
        first = page.locator("#lesson-list button").first
        first.tap()  # at its centre, which is on the screen
        expect(page.get_by_test_id("lesson-panel")).to_be_visible()
    finally:
        ctx.close()


@pytest.mark.parametrize("big", [False, True], ids=["normal", "large-text"])
@pytest.mark.parametrize("lesson_id", ["bug-wrong-update-sign", "bug-no-activation-derivative",
                                       "caches"])
def test_at_1280x720_each_tour_steps_words_buttons_and_question_are_on_screen(page, server,
                                                                           lesson_id, big):
    """The panel keeps the step's words, its buttons and the question in sight beside the
    views: the last step's question sat 784 px down a 720 px screen, in large text every
    step's words and "next" were 100 to 300 px below it, and the intro pushed "next" off
    the screen before the tour had begun."""
    page.set_viewport_size({"width": 1280, "height": 720})
    lesson = lesson_named(served_lessons(page, server), lesson_id)
    steps = len(lesson["tour"])
    for n in range(steps + 1):
        page.goto(f"{server}/?lesson={lesson_id}&tour={n}{'&big=1' if big else ''}")
        expect_tour_step(page, lesson, n)
        parts = ["lesson-say", "lesson-next"] + (["lesson-question"] if n == steps else [])
        for test_id in parts:
            box = page.get_by_test_id(test_id).bounding_box()
            assert box["y"] + box["height"] <= 720, (n, test_id, box)


# each number in scientific notation on the page whose text lies on more than one line
WRAPPED_NUMBERS = r"""() => {
  const found = [], number = /[−-]?\d+(?:\.\d+)?e[−+-]?\d+/g;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.textContent.matchAll(number)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0)
        .map((r) => Math.round(r.top)));
      if (tops.size > 1) found.push(m[0]);
    }
  }
  return found;
}"""


@pytest.mark.parametrize("query", ["?lesson=vanishing-sigmoid&tour=4&big=1&layout=presenter",
                                   "?lesson=bug-wrong-update-sign&tour=4",
                                   "?lesson=vanishing-sigmoid&tour=4"])
def test_a_number_in_scientific_notation_stays_on_one_line(page, server, query):
    """"…fell to about 6e-" ended one line of the presenter's tour and "4. While…" began the
    next; a faint note read "1.5e-" over "7", a comparison's caption "2.39e-" over "7"."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, query, plots=1 if "presenter" in query else PAGE_PLOTS)
    expect(page.get_by_test_id("lesson-say")).to_be_visible()
    assert page.evaluate(WRAPPED_NUMBERS) == []


def test_enter_on_next_at_the_tours_end_leaves_the_focus_on_the_question(page, server):
    """"next" goes disabled under the focus at the last step, which dropped the focus to the
    page's body: no ring anywhere, and Tab started again from the top. The question takes
    it (on "◀ back", Enter pressed once more had walked back), and Shift+Tab reaches back."""
    lesson = lesson_named(served_lessons(page, server), "he-vs-course")
    open_page(page, server, "?lesson=he-vs-course")
    page.get_by_test_id("lesson-next").focus()
    for n in range(1, len(lesson["tour"]) + 1):
        page.keyboard.press("Enter")
        expect_tour_step(page, lesson, n)
    expect(page.get_by_test_id("lesson-question")).to_be_focused()
    page.keyboard.press("Enter")
    expect_tour_step(page, lesson, len(lesson["tour"]))
    for _ in range(3):  # past "↓ the two runs", if shown, and the disabled "next"
        page.keyboard.press("Shift+Tab")
        if page.get_by_test_id("lesson-prev").evaluate("b => b === document.activeElement"):
            break
    expect(page.get_by_test_id("lesson-prev")).to_be_focused()


def test_back_to_the_default_run_leaves_the_lesson_and_its_second_run(page, server):
    """The divergence lesson's panel (at 2 / 4, about the run's α dW) and its α = 0.1 sine
    run compared stayed over the default moons run, and a reload kept them."""
    open_page(page, server, "?lesson=divergence&tour=2")
    expect(page).to_have_url(re.compile(r"[?&]compare="))
    page.locator("#configure summary").click()
    page.locator("#run-reset").click()
    expect(page.locator("#run-summary")).to_contain_text("moons")
    expect(page.get_by_test_id("lesson-panel")).to_be_hidden()
    expect(page).not_to_have_url(re.compile(r"[?&](compare|lesson)="))
    page.reload()
    expect(page.locator("#run-summary")).to_contain_text("moons")
    expect(page.get_by_test_id("lesson-panel")).to_be_hidden()


@pytest.mark.parametrize("lesson_id", ["divergence", "vanishing-sigmoid"])
def test_another_run_trained_from_the_form_leaves_the_lesson(page, server, lesson_id):
    """Trained with α = 0.1 from the form, the divergence lesson stayed open: its stop 4 said
    "training stops here" over a run that did not diverge. Train with the lesson's own
    config keeps the lesson, whatever the order of its fields (a lesson that names its
    activations writes them in another order than the form)."""
    open_page(page, server, f"?lesson={lesson_id}&tour=2")
    expect(page).to_have_url(re.compile(r"[?&]compare="))
    page.locator("#configure summary").click()
    page.get_by_test_id("run-submit").click()  # the lesson's own run: it stays
    expect(page.get_by_test_id("lesson-panel")).to_be_visible()
    page.locator("#configure summary").click()
    page.locator("#field-learning_rate").fill("0.1")
    page.get_by_test_id("run-submit").click()
    expect(page.locator("#run-summary")).to_contain_text("α = 0.1")
    expect(page.get_by_test_id("lesson-panel")).to_be_hidden()
    expect(page).not_to_have_url(re.compile(r"[?&](compare|lesson)="))
    expect(page.get_by_test_id("alert")).to_be_hidden()


def test_a_tour_step_left_for_another_view_says_so_and_leads_back(page, server):
    """Stepping on from a tour step (→, play) left its words over another iteration: "the
    cost is about 0.3" beside J = 4.6e12. They stand back with a note, whose button
    returns to the step's view; the note's words read at 4.5:1 too."""
    open_page(page, server, "?lesson=divergence&tour=1")
    away, say = page.get_by_test_id("lesson-away"), page.get_by_test_id("lesson-say")
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 0 ")
    expect(away).to_be_hidden()
    # the step's words are a live region: moving the views marks them, not rewrites them
    say.evaluate("e => { window.sayWrites = 0; new MutationObserver(() => window.sayWrites++)"
                 ".observe(e, {childList: true, characterData: true, subtree: true}); }")
    page.get_by_test_id("step-next").click()
    page.get_by_test_id("step-next").click()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 2 ")
    expect(away).to_be_visible()
    assert page.evaluate("window.sayWrites") == 0
    expect(say).to_have_class(re.compile(r"\bstale\b"))
    expect(page).to_have_url(re.compile(r"[?&]tour=1(&|$)"))
    assert page.evaluate(LESSON_CONTRAST) == []
    page.reload()  # the link keeps the step, and the page that it was left
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 2 of 6")
    expect(away).to_be_visible()
    page.get_by_test_id("play-toggle").click()  # playing, the step's button pauses it
    expect(page.get_by_test_id("play-toggle")).to_contain_text("Pause")
    page.get_by_test_id("lesson-return").click()
    expect(page.get_by_test_id("play-toggle")).to_contain_text("Play")
    page.wait_for_timeout(400)
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 0 ")
    expect(away).to_be_hidden()
    expect(say).not_to_have_class(re.compile(r"\bstale\b"))
    expect(page.get_by_test_id("lesson-next")).to_be_focused()
    # a phase moved off the step's is away from it too
    page.get_by_test_id("phase-prev").click()
    expect(away).to_be_visible()


def test_a_lessons_second_run_is_a_click_away(page, server):
    """Steps that speak of the second run ("GD's update is −α dW[1]") had it below the
    fold at 720 px: the panel's "↓ the two runs" brings it up, its heading focused; a
    lesson without one has no such button."""
    open_page(page, server, "?lesson=adam-vs-gd&tour=1")
    compare = page.get_by_test_id("view-compare")
    assert compare.bounding_box()["y"] > 600
    page.get_by_test_id("lesson-to-compare").click()
    expect(page.locator("#compare-title")).to_be_focused()
    top = compare.bounding_box()["y"]
    assert 0 <= top < 300, top
    page.get_by_test_id("compare-toggle").click()  # the second run dropped: no way down to it
    expect(compare).to_be_hidden()
    expect(page.get_by_test_id("lesson-to-compare")).to_be_hidden()
    # the step speaks of it: it is left, and "back to this step" brings the run back
    expect(page.get_by_test_id("lesson-away")).to_be_visible()
    page.get_by_test_id("lesson-return").click()
    expect(page.get_by_test_id("compare-legend")).to_contain_text("run B: optimizer gd")
    expect(page.get_by_test_id("lesson-to-compare")).to_be_visible()
    expect(page.get_by_test_id("lesson-away")).to_be_hidden()
    choose(page, "softmax-digits")
    expect(page.get_by_test_id("lesson-panel").locator("h2")).to_contain_text("Softmax")
    expect(page.get_by_test_id("lesson-to-compare")).to_be_hidden()


def test_in_the_presenter_layout_the_second_run_comes_up_under_the_tours_strip(page, server):
    """There the views scroll below the controls and the strip: room kept for the sticky
    controls (as the page layout needs) had left the comparison's plots under the fold."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?lesson=he-vs-course&layout=presenter", plots=1)
    page.get_by_test_id("lesson-to-compare").click()
    expect(page.locator("#compare-title")).to_be_focused()
    strip = page.get_by_test_id("lesson-panel").bounding_box()
    top = page.get_by_test_id("view-compare").bounding_box()["y"]
    assert strip["y"] + strip["height"] <= top <= strip["y"] + strip["height"] + 20, (strip, top)
