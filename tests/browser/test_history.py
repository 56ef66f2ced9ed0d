"""Back and Forward (the browser's history): each run and each lesson the page shows is an
entry of its own, which Back shows again at the view it was left at; stepping through a
run changes its entry's URL only; a refused config adds no entry; and a load that a later
one replaced never takes the screen."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import is_run_post, open_page
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
    expect(page).to_have_url(re.compile("it=2"))  # (the URL follows within 250 ms)
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


def test_a_load_that_a_later_one_replaced_never_takes_the_screen(page, server):
    """A slow run asked for, then another: the second shows, and stays when the first's
    answer comes late."""
    open_page(page, server)
    held = []
    page.route("**/api/runs", lambda route: held.append(route)
               if route.request.method == "POST" and "iris" in (route.request.post_data or "")
               else route.continue_())
    submit(page, dataset="iris", steps="40")
    page.wait_for_function("() => document.querySelector('#run-progress') !== null")
    while not held:
        page.wait_for_timeout(50)
    submit(page, dataset="xor", steps="30")
    summary = page.locator("#run-summary")
    expect(summary).to_contain_text("xor")
    with page.expect_response(is_run_post):
        held[0].continue_()
    page.wait_for_timeout(500)
    expect(summary).to_contain_text("xor")
    expect(page).to_have_url(re.compile("dataset=xor"))
    expect(page.get_by_test_id("step-label")).to_have_text(re.compile(r"iteration 0 of 29\s*$"))
