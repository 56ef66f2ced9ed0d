"""static/js/plot_toolbar.js: each figure's Plotly mode bar is one Tab stop, a toolbar that
the arrow keys walk without changing the iteration."""

from playwright.sync_api import expect

from tests.browser.conftest import open_page

LOSS_BAR = "[data-testid=view-loss] .modebar"


def tab_stops(page, selector):
    """The buttons under selector that Tab reaches."""
    return page.locator(selector).evaluate_all(
        "bs => bs.filter(b => b.tabIndex >= 0 && !b.disabled).map(b => b.dataset.title)")


def test_each_mode_bar_is_one_tab_stop(page, server):
    open_page(page, server)
    bars = page.locator(".views .modebar")
    assert bars.count() >= 6
    for k in range(bars.count()):
        bar = bars.nth(k)
        expect(bar).to_have_attribute("role", "toolbar")
        assert len(tab_stops(bar, ".modebar-btn")) == 1
    # Tab goes from one figure's tools to the next figure's, not through their buttons
    page.locator(f"{LOSS_BAR} .modebar-btn").first.focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('.modebar') === "
                            f"document.querySelector('{LOSS_BAR}')")
    assert not focused


def test_arrows_walk_the_tools_and_leave_the_iteration_alone(page, server):
    open_page(page, server, "?it=3")
    buttons = page.locator(f"{LOSS_BAR} .modebar-btn")
    titles = buttons.evaluate_all("bs => bs.map(b => b.dataset.title)")
    assert len(titles) >= 3
    buttons.first.focus()
    expect(page.locator(LOSS_BAR)).to_have_css("opacity", "1")  # seen while focused
    for key, k in (("ArrowRight", 1), ("ArrowRight", 2), ("ArrowLeft", 1),
                   ("End", len(titles) - 1), ("ArrowRight", 0), ("ArrowLeft", len(titles) - 1),
                   ("Home", 0)):
        page.keyboard.press(key)
        expect(buttons.nth(k)).to_be_focused()
        assert tab_stops(page, f"{LOSS_BAR} .modebar-btn") == [titles[k]]
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 3 ")


def test_the_chosen_tool_keeps_the_stop_across_redraws(page, server):
    open_page(page, server, "?it=3")
    buttons = page.locator(f"{LOSS_BAR} .modebar-btn")
    buttons.first.focus()
    page.keyboard.press("ArrowRight")
    chosen = buttons.nth(1).get_attribute("data-title")
    page.get_by_test_id("step-next").click()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 4 ")
    page.wait_for_timeout(300)
    assert tab_stops(page, f"{LOSS_BAR} .modebar-btn") == [chosen]


def test_a_touch_phone_draws_the_figures_without_their_tools(browser, server):
    """A touch screen has no hover: Plotly would show every mode bar all the time, over the
    subplots' titles. At a phone's width the page hides them there, and only there."""
    for touch, shown in ((True, False), (False, True)):
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=touch,
                                  is_mobile=touch)
        try:
            page = ctx.new_page()
            open_page(page, server, "?it=3")
            bars = page.locator(".views .modebar-container")
            assert bars.count() >= 6
            displays = bars.evaluate_all("bs => bs.map(b => getComputedStyle(b).display)")
            assert all((d != "none") == shown for d in displays), (touch, displays)
        finally:
            ctx.close()
