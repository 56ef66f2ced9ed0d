"""The page with the keyboard only: ←/→ step the iteration wherever the focus is, except in
a text field, the phase chips are buttons that Tab reaches and Enter or space choose, and
space presses any focused button."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page, redraws, wait_redrawn

# (drop-down, the option chosen from it): the focus stays on it after the choice
DROP_DOWNS = [("[data-testid=layer-select]", "2"), ("#speed", "5"), ("#scale", "run")]


@pytest.mark.parametrize(("control", "value"), DROP_DOWNS, ids=["layer", "speed", "scale"])
def test_arrows_step_the_iteration_after_a_drop_down_choice(page, server, control, value):
    open_page(page, server, "?it=3")
    select = page.locator(control)
    select.focus()
    before = redraws(page)
    select.select_option(value)
    wait_redrawn(page, before)
    expect(select).to_be_focused()
    step = page.get_by_test_id("step-label")
    for key, iteration in (("ArrowRight", 4), ("ArrowRight", 5), ("ArrowLeft", 4)):
        page.keyboard.press(key)
        expect(step).to_contain_text(f"iteration {iteration} ")
        expect(select).to_have_value(value)  # the drop-down keeps its choice


def test_arrows_move_the_caret_in_a_text_field(page, server):
    open_page(page, server, "?it=3")
    jump = page.locator("#jump")
    jump.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 3 ")


def test_phase_chips_are_reached_with_tab_and_chosen_with_enter_or_space(page, server):
    open_page(page, server)
    page.get_by_test_id("phase-next").focus()
    page.keyboard.press("Tab")  # the strip follows the phase buttons
    chip = page.locator("#phase-strip button").first
    expect(chip).to_be_focused()
    expect(chip).to_have_attribute("aria-current", "step")
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(page.locator("#phase-strip button", has_text="cost")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("phase-label")).to_have_text("cost")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # space chooses the chip; it does not start playing
    expect(page.get_by_test_id("phase-label")).to_have_text("backward · layer 3")
    expect(page.get_by_test_id("play-toggle")).to_contain_text("Play")
    expect(page).to_have_url(re.compile(r"[?&]phase=backward-3&layer=3"))


@pytest.mark.parametrize(("button", "iteration"), [("step-next", 4), ("step-prev", 2)])
def test_space_presses_a_focused_button_and_plays_elsewhere(page, server, button, iteration):
    """Space on a focused button presses it, as on any page (it used to start the player);
    with no button focused it plays and pauses."""
    open_page(page, server, "?it=3")
    toggle, step = page.get_by_test_id("play-toggle"), page.get_by_test_id("step-label")
    page.get_by_test_id(button).focus()
    page.keyboard.press("Space")
    expect(step).to_contain_text(f"iteration {iteration} ")
    page.wait_for_timeout(400)
    expect(toggle).to_contain_text("Play")
    expect(step).to_contain_text(f"iteration {iteration} ")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Space")
    expect(toggle).to_contain_text("Pause")
    page.keyboard.press("Space")
    expect(toggle).to_contain_text("Play")


# the focused element's top, and the sticky controls' bottom (px from the window's top)
FOCUS_AND_BAR = """() => [document.activeElement.getBoundingClientRect().top,
  document.querySelector('.controls').getBoundingClientRect().bottom,
  document.activeElement.id || document.activeElement.textContent.trim().slice(0, 30)]"""


def test_shift_tab_never_leaves_the_focus_under_the_sticky_controls(page, server):
    """Tabbing back up the page scrolls each focused element into view below the bar."""
    open_page(page, server, "?it=5&phase=forward-2&layer=2")
    page.locator("#gradcheck button").first.focus()
    under = []
    for _ in range(30):
        page.keyboard.press("Shift+Tab")
        top, bar, name = page.evaluate(FOCUS_AND_BAR)
        inside_bar = page.evaluate("document.activeElement.closest('.controls, .top') !== null")
        if not inside_bar and top < bar - 1:
            under.append((name, top, bar))
    assert under == []


def test_a_control_of_the_sticky_bar_takes_the_focus_where_the_page_stands(page, server):
    """The room kept under the bar is the page's, not the bar's own: focusing or pressing
    a control in the bar does not scroll the page back to its top."""
    open_page(page, server, "?it=10")
    page.locator("#view-boundary").scroll_into_view_if_needed()
    before = page.evaluate("scrollY")
    assert before > 300
    page.get_by_test_id("step-next").focus()
    page.get_by_test_id("step-next").click()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 11 ")
    assert page.evaluate("scrollY") == before


def test_space_after_clicking_presenter_plays_and_keeps_the_layout(page, server):
    """A teacher clicks 'presenter' with the mouse, then presses Space to play: the button
    had kept the focus, and Space pressed it again, leaving the layout."""
    open_page(page, server, "?it=3")
    page.locator("#presenter").click()
    expect(page).to_have_url(re.compile(r"[?&]layout=presenter"))
    page.keyboard.press("Space")
    expect(page.get_by_test_id("play-toggle")).to_contain_text("Pause")
    expect(page).to_have_url(re.compile(r"[?&]layout=presenter"))
    page.keyboard.press("Space")
    expect(page.get_by_test_id("play-toggle")).to_contain_text("Play")


def test_the_presenter_button_keeps_a_keyboard_users_focus(page, server):
    open_page(page, server, "?it=3")
    page.locator("#presenter").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]layout=presenter"))
    expect(page.locator("#presenter")).to_be_focused()
