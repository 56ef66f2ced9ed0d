"""Back and Forward (the browser's history): each run and each lesson the page shows is an
entry of its own, which Back shows again at the view it was left at; stepping through a
run changes its entry's URL only; a refused config adds no entry; and a load that a later
one replaced never takes the screen."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import open_page, post_run
from tests.browser.test_lessons_page import choose


def history_length(page) -> int:
    return page.evaluate("() => window.history.length")


def submit(page, **fields):
    """Fill the form's fields (name -> text) and train."""
    form = page.locator("#configure")
    if not form.evaluate("(e) => e.open"):
        page.locator("#configure summary").click()
    for name, value in fields.items():
        field = page.locator(f"#field-{name}")
        if field.evaluate("(e) => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
            field.dispatch_event("change")
    page.get_by_test_id("run-submit").click()


def test_back_shows_the_run_before_at_its_view_and_forward_the_new_one(page, server):
    open_page(page, server, "?it=7&phase=cost&layer=2")
    summary, step = page.locator("#run-summary"), page.get_by_test_id("step-label")
    first = summary.text_content()
    entries = history_length(page)
    submit(page, dataset="iris", steps="40")
    expect(summary).to_contain_text("iris · 4 → ")
    assert history_length(page) == entries + 1
    # steps and phases of the new run change its entry, not the history
    page.get_by_test_id("step-next").click()
    page.get_by_test_id("step-next").click()
    expect(step).to_contain_text("iteration 2 of 39")
    expect(page).to_have_url(re.compile("it=2"))
    assert history_length(page) == entries + 1

    page.go_back()
    expect(summary).to_have_text(first)
    expect(step).to_contain_text("iteration 7 of 299")
    expect(page.get_by_test_id("phase-label")).to_contain_text("cost")
    expect(page).not_to_have_url(re.compile("dataset=iris"))
    expect(page).to_have_url(re.compile("it=7.*phase=cost.*layer=2"))
    expect(page.locator("#field-dataset")).not_to_have_value("iris")  # the form follows

    page.go_forward()
    expect(summary).to_contain_text("iris · 4 → ")
    expect(step).to_contain_text("iteration 2 of 39")
    expect(page).to_have_url(re.compile("dataset=iris.*it=2"))
    assert history_length(page) == entries + 1


def test_a_refused_config_adds_no_entry(page, server):
    open_page(page, server, "?it=5")
    entries = history_length(page)
    submit(page, steps="0")
    expect(page.get_by_test_id("alert")).to_contain_text("steps:")
    expect(page).to_have_url(re.compile("it=5"))
    submit(page, steps="30")
    expect(page.get_by_test_id("step-label")).to_have_text(re.compile(r"iteration 0 of 29\s*$"))
    assert history_length(page) == entries + 1
    page.go_back()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 5 of 299")
    expect(page).not_to_have_url(re.compile("steps="))


def test_a_lesson_is_an_entry_and_back_closes_it(page, server):
    open_page(page, server, "?it=3")
    panel = page.get_by_test_id("lesson-panel")
    entries = history_length(page)
    choose(page, "divergence")
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("alert")).to_contain_text("diverged")  # its run is open
    expect(page).to_have_url(re.compile("lesson=divergence"))
    assert history_length(page) == entries + 1
    page.go_back()
    expect(panel).to_be_hidden()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 3 of 299")
    expect(page).not_to_have_url(re.compile("lesson="))
    page.go_forward()
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("alert")).to_contain_text("diverged")


def test_a_bare_lesson_link_is_one_entry(page, server):
    """The page fills in a bare ?lesson= link's run and view in the same entry: Back leaves
    the page, it does not open the lesson again."""
    page.goto("about:blank")
    entries = history_length(page)
    open_page(page, server, "?lesson=divergence")
    expect(page.get_by_test_id("alert")).to_contain_text("diverged")
    expect(page).to_have_url(re.compile("dataset=sine.*lesson=divergence"))
    assert history_length(page) == entries + 1


def hold_posts(page, word):
    """Hold back the page's POST /api/runs whose body holds word: the held routes."""
    held = []
    page.route("**/api/runs", lambda route: held.append(route)
               if route.request.method == "POST" and word in (route.request.post_data or "")
               else route.continue_())
    return held


def wait_held(page, held):
    """The first held route, once the page has asked (the waits let its handler run)."""
    for _ in range(100):
        if held:
            return held[0]
        page.wait_for_timeout(50)
    raise AssertionError("the page asked for no such run")


def test_a_load_that_a_later_one_replaced_never_takes_the_screen(page, server):
    """A run asked for, then another: the second shows, and stays when the first's answer
    comes late."""
    open_page(page, server)
    iris = {"dataset": "iris", "steps": 40}
    assert post_run(page.request, server, iris).ok  # trained: no polling
    held = hold_posts(page, "iris")
    submit(page, dataset="iris", steps="40")
    route = wait_held(page, held)
    submit(page, dataset="xor", steps="30")
    summary = page.locator("#run-summary")
    expect(summary).to_contain_text("xor")
    with page.expect_response(lambda r: "/summary" in r.url):  # the late run's, read whole
        route.continue_()
    page.wait_for_timeout(200)
    expect(summary).to_contain_text("xor")
    expect(page).to_have_url(re.compile("dataset=xor"))
    expect(page.get_by_test_id("step-label")).to_have_text(re.compile(r"iteration 0 of 29\s*$"))


def test_back_while_a_run_loads_keeps_every_entry(page, server):
    """The URL of a run still on its way is not written into the entry on screen: Back
    then goes to the entry before, and Forward to the one that was on screen."""
    open_page(page, server)
    submit(page, dataset="iris", steps="40")
    expect(page.locator("#run-summary")).to_contain_text("iris")
    page.get_by_test_id("step-next").click()
    page.get_by_test_id("step-next").click()
    held = hold_posts(page, "xor")
    submit(page, dataset="xor", steps="30")
    wait_held(page, held)
    # the run on screen keeps its view, and its URL, until the new one opens
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 2 of 39")
    expect(page).to_have_url(re.compile("dataset=iris.*it=2"))
    page.go_back()
    expect(page.locator("#run-summary")).not_to_contain_text("iris")
    expect(page.locator("#run-summary")).not_to_contain_text("Training")
    page.go_forward()
    expect(page.locator("#run-summary")).to_contain_text("iris")
    expect(page).to_have_url(re.compile("dataset=iris"))


def test_asking_for_the_run_on_screen_again_drops_the_load_and_its_words(page, server):
    """A run asked for, then the one on screen again (Reset here; Back likewise): the form
    shows the run on screen, not the dropped one."""
    open_page(page, server)
    summary, dataset = page.locator("#run-summary").text_content(), page.locator("#field-dataset")
    default = dataset.input_value()
    held = hold_posts(page, "xor")
    submit(page, dataset="xor", steps="30")
    wait_held(page, held)
    page.locator("#run-reset").click()
    expect(dataset).to_have_value(default)
    expect(page.locator("#run-summary")).to_have_text(summary)
    expect(page.locator("#run-progress")).to_be_hidden()
    expect(page).not_to_have_url(re.compile("xor"))


def test_a_back_whose_run_is_refused_keeps_its_entry_and_the_view_on_screen(page, server):
    """Back to a run the server refuses now (busy, restarted with other limits): the run
    on screen stays at its view, under the alert, and the entry Back went to keeps its
    URL (a later Back tries it again)."""
    open_page(page, server, "?it=250&layer=2")
    submit(page, dataset="iris", steps="40")
    step = page.get_by_test_id("step-label")
    expect(step).to_have_text(re.compile(r"iteration 0 of 39\s*$"))
    refusal = '{"valid": false, "detail": "steps: this server now takes at most 20"}'
    page.route("**/api/configs/check", lambda route: route.fulfill(
        status=200, content_type="application/json", body=refusal))
    page.go_back()
    expect(page.get_by_test_id("alert")).to_contain_text("at most 20")
    expect(step).to_have_text(re.compile(r"iteration 0 of 39\s*$"))
    expect(page).to_have_url(re.compile("dataset=iris"))
    page.unroute("**/api/configs/check")
    page.go_back()  # the entry Back went to, with its URL
    expect(step).to_contain_text("iteration 250 of 299")
    expect(page).to_have_url(re.compile("it=250.*layer=2"))


def test_back_right_after_steps_keeps_their_view_for_forward(page, server):
    """A few clicks write the URL at once: Back at once, then Forward, shows the last."""
    open_page(page, server)
    submit(page, dataset="iris", steps="40")
    expect(page.get_by_test_id("step-label")).to_have_text(re.compile(r"iteration 0 of 39\s*$"))
    for _ in range(3):
        page.get_by_test_id("step-next").click()
    page.go_back()
    expect(page.locator("#run-summary")).not_to_contain_text("iris")
    page.go_forward()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 3 of 39")


def test_back_keeps_the_display_settings(page, server):
    """Presenter, large text and colours are the reader's, not an entry's."""
    open_page(page, server)
    submit(page, dataset="iris", steps="40")
    expect(page.locator("#run-summary")).to_contain_text("iris")
    page.locator("#presenter").click()
    page.locator("#scale").select_option("tensor")
    page.go_back()
    expect(page.locator("#run-summary")).not_to_contain_text("iris")
    expect(page.locator("html")).to_have_class(re.compile(r"\bpresenter\b"))
    expect(page.locator("#scale")).to_have_value("tensor")
    expect(page).to_have_url(re.compile("layout=presenter.*scale=tensor|scale=tensor.*layout=presenter"))


def test_steps_taken_while_a_run_loads_are_the_entrys_for_back(page, server):
    """The run on screen can be stepped while another trains: its URL follows, and Back,
    once the new run is open, shows it where it was left."""
    open_page(page, server)
    submit(page, dataset="iris", steps="40")
    expect(page.get_by_test_id("step-label")).to_have_text(re.compile(r"iteration 0 of 39\s*$"))
    held = hold_posts(page, "xor")
    submit(page, dataset="xor", steps="30")
    route = wait_held(page, held)
    for _ in range(4):
        page.get_by_test_id("step-next").click()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 4 of 39")
    expect(page).to_have_url(re.compile("dataset=iris.*it=4"))
    route.continue_()
    expect(page.locator("#run-summary")).to_contain_text("xor")
    page.go_back()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 4 of 39")
    expect(page.locator("#run-summary")).to_contain_text("iris")


def test_a_lesson_shows_with_its_run_and_the_run_on_screen_keeps_its_view_meanwhile(
        page, server):
    open_page(page, server, "?it=3&phase=backward-2&layer=2")
    held = hold_posts(page, "sine")  # the divergence lesson's run
    choose(page, "divergence")
    route = wait_held(page, held)
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 3 of 299")
    expect(page.get_by_test_id("phase-label")).to_contain_text("backward · layer 2")
    expect(page.get_by_test_id("lesson-panel")).to_be_hidden()
    route.continue_()
    panel = page.get_by_test_id("lesson-panel")
    expect(panel).to_be_visible()
    expect(page.locator(":focus")).to_have_count(1)
    assert panel.evaluate("(p) => p.contains(document.activeElement)")


def test_steps_while_a_back_loads_leave_the_history_as_it_was(page, server):
    """Back to a run that still loads, and a step of the run on screen meanwhile: no entry
    is added, and the run Back went to opens in its entry."""
    open_page(page, server)
    submit(page, dataset="iris", steps="40")
    expect(page.locator("#run-summary")).to_contain_text("iris")
    submit(page, dataset="xor", steps="30")
    expect(page.locator("#run-summary")).to_contain_text("xor")
    entries = history_length(page)
    held = hold_posts(page, "iris")
    page.go_back()
    route = wait_held(page, held)
    page.get_by_test_id("step-next").click()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 1 of 29")
    route.continue_()
    expect(page.locator("#run-summary")).to_contain_text("iris")
    expect(page).to_have_url(re.compile("dataset=iris"))
    assert history_length(page) == entries
    page.go_forward()
    expect(page.locator("#run-summary")).to_contain_text("xor")
