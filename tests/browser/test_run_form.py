"""The run form in a real browser: it trains what it shows, names bad fields, follows the
dataset's natural output, and the URL it leaves restores the same run."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Recorder, is_run_post, open_page

BAD_FORM_VALUES = [("learning_rate", "50", "0.5"), ("hidden_layers", "8, 500", "8, 8")]


def test_bad_config_in_the_form_names_the_field(page, server):
    open_page(page, server)
    page.locator("#configure summary").click()
    alert = page.get_by_test_id("alert")
    for field, bad, good in BAD_FORM_VALUES:
        page.locator(f"#field-{field}").fill(bad)
        page.get_by_test_id("run-submit").click()
        expect(alert).to_be_visible()
        expect(alert).to_contain_text(field)
        page.locator(f"#field-{field}").fill(good)


def test_a_refused_form_keeps_the_view_and_says_the_forms_word(page, server):
    """steps is the form's "iterations": the alert says both, comes into view, and the
    last good run stays at the iteration, phase and layer it showed."""
    open_page(page, server, "?it=5&phase=cost&layer=2")
    page.locator("#configure summary").click()
    page.locator("#field-steps").fill("0")
    page.locator("#field-steps").scroll_into_view_if_needed()
    page.get_by_test_id("run-submit").click()
    alert = page.get_by_test_id("alert")
    expect(alert).to_contain_text("steps:")
    expect(alert).to_contain_text("iterations")
    expect(alert).to_be_in_viewport()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 5")
    expect(page.get_by_test_id("phase-label")).to_contain_text("cost")
    expect(page).to_have_url(re.compile("it=5.*phase=cost.*layer=2"))


def test_a_good_run_after_a_refused_one_clears_the_alert(page, server):
    open_page(page, server)
    page.locator("#configure summary").click()
    page.locator("#field-hidden_layers").fill("8, abc")
    page.get_by_test_id("run-submit").click()
    alert = page.get_by_test_id("alert")
    # the API counts a list's entries from 0, the form's words from 1
    expect(alert).to_contain_text("hidden_layers.1: input should be a valid integer, got 'abc'")
    expect(alert).to_contain_text("its 2nd value)")
    field = page.locator("#field-hidden_layers")
    expect(field).to_have_attribute("aria-invalid", "true")  # the field is marked too
    page.locator("#field-hidden_layers").fill("6, 5")
    page.get_by_test_id("run-submit").click()
    expect(page.locator("#run-summary")).to_contain_text("2 → 6 → 5 → 1")
    expect(alert).to_be_hidden()
    expect(field).not_to_have_attribute("aria-invalid", "true")


def test_form_trains_a_new_run(page, server):
    open_page(page, server)
    page.locator("#configure summary").click()
    page.locator("#field-dataset").select_option("iris")
    page.locator("#field-hidden_layers").fill("5")
    page.locator("#field-hidden_layers").dispatch_event("change")
    page.locator("#field-steps").fill("40")
    page.get_by_test_id("run-submit").click()
    expect(page.locator("#run-summary")).to_contain_text("iris · 4 → 5 → 3")
    expect(page.get_by_test_id("view-boundary")).to_contain_text("Confusion matrix")
    expect(page).to_have_url(re.compile("dataset=iris.*steps=40"))


def train_from_form(page, dataset, steps):
    """Pick a dataset in the form, train, and return the run info the server answered."""
    page.locator("#configure summary").click()
    page.locator("#field-dataset").select_option(dataset)
    page.locator("#field-steps").fill(str(steps))
    with page.expect_response(is_run_post) as answer:
        page.get_by_test_id("run-submit").click()
    assert answer.value.status in (201, 202), answer.value.text()
    return answer.value.json()


def test_changing_the_dataset_to_digits_trains_and_the_url_restores_it(page, server, context):
    open_page(page, server)
    run = train_from_form(page, "digits", 30)
    # the form switched the output layer and the loss with the dataset: no 422
    assert run["config"]["activations"] == ["relu", "relu", "softmax"]
    assert run["config"]["loss"] == "categorical_cross_entropy"
    expect(page.locator("#run-summary")).to_contain_text("digits · 64 → 8 → 8 → 10")
    expect(page.get_by_test_id("view-boundary")).to_contain_text("Confusion matrix")
    expect(page.get_by_test_id("alert")).to_be_hidden()
    # only what differs from digits' own defaults is in the URL
    expect(page).to_have_url(re.compile(r"\?dataset=digits&steps=30&it=0&"))
    url = page.url

    again = context.new_page()
    recorder = Recorder(again)
    try:
        with again.expect_response(is_run_post) as answer:
            open_page(again, url.split("/?")[0], "?" + url.split("?", 1)[1])
        assert answer.value.json()["config"] == run["config"]
        expect(again.locator("#run-summary")).to_contain_text("digits · 64 → 8 → 8 → 10")
        assert again.url == url
        assert recorder.errors == []
    finally:
        again.close()


@pytest.mark.parametrize("words", ["training… 40 %", "waiting: this server already trains as "
                                   "many runs as it allows you; asking again in 3 s"])
def test_a_phones_form_keeps_a_long_runs_progress_on_the_screen(page, server, words):
    """While a long run trained, its progress joined "Train" and "Back to the default run"
    in one row 437 px wide: a 390 px phone's page scrolled sideways, cutting its left edge."""
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, server)
    page.locator("#configure summary").click()
    page.evaluate("""(words) => {
      document.getElementById('run-progress').hidden = false;
      document.getElementById('run-progress').value = 0.4;
      document.getElementById('run-progress-text').textContent = words; }""", words)
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390
    right = page.locator(".form-actions > *").evaluate_all(
        "els => Math.max(...els.map((e) => e.getBoundingClientRect().right))")
    assert right <= 390


@pytest.mark.parametrize("widths", ["5, 3", "5, 3, 2", "4"])
def test_tab_from_the_layer_widths_keeps_the_focus_on_the_activations(page, server, widths):
    """The widths' change comes as Tab leaves them for the first activation, which the form
    then rebuilt: the focus fell to the page's body, with no ring anywhere."""
    open_page(page, server)
    page.locator("#configure summary").click()
    field = page.get_by_label("hidden layer widths")
    field.fill(widths)
    field.press("Tab")
    # rebuilt once the focus has moved (a timer later): the new selects, the first focused
    expect(page.locator(".activations select")).to_have_count(len(widths.split(",")) + 1)
    expect(page.locator("select[name=activation-1]")).to_be_focused()


def test_enter_in_the_layer_widths_trains_them_with_an_activation_each(page, server):
    """The activations follow the widths after the focus moves; Enter submits before it
    does, and the form rebuilds them first."""
    open_page(page, server)
    page.locator("#configure summary").click()
    field = page.get_by_label("hidden layer widths")
    field.fill("5, 3, 2")
    with page.expect_response(is_run_post) as answer:
        field.press("Enter")
    config = answer.value.json()["config"]
    assert config["hidden_layers"] == [5, 3, 2] and len(config["activations"]) == 4


def test_a_runs_classic_mistake_is_named_and_kept_by_the_form(page, server):
    """A run with a `bug` said so only in its lesson's panel, and the form, which had no
    field for it, dropped it on Train."""
    open_page(page, server, "?n_samples=200&steps=50&bug=missing_1_over_m")
    expect(page.locator("#run-summary")).to_contain_text(
        "classic mistake: dW without 1/m · moons")
    page.locator("#configure summary").click()
    mistake = page.get_by_label("classic mistake")
    expect(mistake).to_have_value("missing_1_over_m")
    # each named in words before its id, as the header names it
    expect(mistake.locator("option:checked")).to_have_text("dW without 1/m (missing_1_over_m)")
    expect(mistake.locator("option").first).to_have_text("none")
    page.get_by_label("learning rate α").fill("0.2")
    with page.expect_response(is_run_post) as answer:
        page.get_by_role("button", name="Train").click()
    assert answer.value.json()["config"]["bug"] == "missing_1_over_m"
    expect(page).to_have_url(re.compile(r"[?&]bug=missing_1_over_m(&|$)"))
    expect(page.locator("#run-summary")).to_contain_text("α = 0.2 ")  # the form shows it
    # the form folds away once its run opens, focus on its summary, and opens again
    expect(page.locator("#configure")).not_to_have_attribute("open", "")
    expect(page.locator("#configure summary")).to_be_focused()
    page.keyboard.press("Enter")
    mistake.select_option("none")
    with page.expect_response(is_run_post) as answer:
        page.get_by_role("button", name="Train").click()
    assert answer.value.json()["config"]["bug"] is None
    expect(page.locator("#run-summary")).not_to_contain_text("mistake")


def test_a_refusal_naming_the_activations_outlines_them(page, server):
    """A tanh output on moons (whose loss needs a sigmoid) is refused naming
    `activations`: their box is outlined, as the field a refusal names always is."""
    open_page(page, server)
    page.locator("#configure summary").click()
    page.locator("select[name=activation-3]").select_option("tanh")
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_test_id("alert")).to_contain_text("activations")
    expect(page.locator("#configure")).to_have_attribute("open", "")  # to mend the field
    expect(page.locator("#field-activations")).to_have_attribute("aria-invalid", "true")


def test_escape_in_the_form_folds_it_away_and_gives_the_focus_to_its_summary(page, server):
    open_page(page, server)
    summary = page.locator("#configure summary")
    summary.click()
    page.locator("#field-learning_rate").focus()
    page.keyboard.press("Escape")
    expect(page.locator("#configure")).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()
    page.keyboard.press("Escape")  # closed: Esc does nothing more
    expect(page.locator("#configure")).not_to_have_attribute("open", "")
