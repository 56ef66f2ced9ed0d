"""The link at the end of a check's report opens the lens where the mistake shows: the phase
and layer of the failure, in a run whose layers are those of the failing case (the course's
L_model_backward case has 2 layers, the page's default run 3); or, for a mistake that a bug
lesson teaches, that lesson: its own run (with the bug), its view and its words."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from engine import course
from engine.check import backward_mistakes as back
from engine.check import check_functions
from engine.check import forward_mistakes as fwd
from tests.browser.conftest import open_page, redraws, wait_redrawn


def fails_with_one_layer(X, parameters):
    """L_model_forward, wrong only for a net of one layer (logistic regression)."""
    AL, caches = course.L_model_forward(X, parameters)
    return (AL, caches) if len(parameters) > 2 else (AL, [])


# (the learner's function, the phase banner, the layers of the run the link opens)
LINKS = {
    "the sign of dAL": (("L_model_backward", back.dAL_sign_flipped), "cost",
                        ["layer 1 (relu, 3 units)", "layer 2 (sigmoid, 1 unit)"]),
    "hidden layers with sigmoid": (("L_model_forward", fwd.hidden_layers_sigmoid),
                                   "forward · layer 1",
                                   ["layer 1 (relu, 4 units)", "layer 2 (relu, 3 units)",
                                    "layer 3 (sigmoid, 1 unit)"]),
    "a one-layer net": (("L_model_forward", fails_with_one_layer), "forward · layer 1",
                        ["layer 1 (sigmoid, 1 unit)"]),
}


@pytest.mark.parametrize("name", LINKS)
def test_the_reports_link_opens_the_view_of_the_mistake(page, server, name):
    (function, code), phase, layers = LINKS[name]
    report = check_functions({function: code}, url=server)
    assert report["first_failure"]["function"] == function
    open_page(page, server, report["lens"].removeprefix(server + "/"))
    expect(page.get_by_test_id("phase-label")).to_have_text(phase)
    options = page.get_by_test_id("layer-select").locator("option")
    expect(options).to_have_text(layers)
    query = parse_qs(urlsplit(report["lens"]).query)
    expect(page.get_by_test_id("layer-select")).to_have_value(query["layer"][0])
    expect(page.get_by_test_id("lesson-panel")).to_be_hidden()


# (the learner's function, the lesson the link opens)
LESSON_LINKS = {
    "+ in the update": (("update_parameters", back.update_adds), "bug-wrong-update-sign"),
    "activation_cache holds A": (("linear_activation_forward", fwd.activation_cache_holds_A),
                                 "bug-activation-cache-holds-a"),
}


@pytest.mark.parametrize("name", LESSON_LINKS)
def test_a_mistake_that_a_lesson_teaches_opens_that_lessons_run(page, server, name):
    """The lesson's words name its own run's numbers (m = 160, α = 0.05): the link opens that
    run, with the bug, not the default run with the bug beside words about another."""
    (function, code), lesson_id = LESSON_LINKS[name]
    report = check_functions({function: code}, url=server)
    assert report["lens"] == f"{server}/?lesson={lesson_id}"
    lesson = next(item for item in page.request.get(f"{server}/api/lessons").json()
                  if item["id"] == lesson_id)
    open_page(page, server, f"?lesson={lesson_id}")
    expect(page.get_by_test_id("lesson-panel")).to_be_visible()
    expect(page).to_have_url(re.compile(f"[?&]bug={lesson['config']['bug']}"))
    for field in ("n_samples", "steps"):  # the URL leaves out the default config's values
        expect(page).to_have_url(re.compile(f"[?&]{field}={lesson['config'][field]}(&|$)"))


def test_a_lessons_tour_keeps_to_its_runs_layers(page, server):
    """Every tour stop of the lesson the link opens shows a layer of its run (no request for
    a layer that is not there: the page fixture fails on its 422)."""
    report = check_functions({"update_parameters": back.update_adds}, url=server)
    open_page(page, server, report["lens"].removeprefix(server + "/"))
    layers = {"1", "2", "3"}
    nxt = page.get_by_test_id("lesson-next")
    while nxt.is_enabled():
        before = redraws(page)
        nxt.click()
        wait_redrawn(page, before)
        assert page.get_by_test_id("layer-select").input_value() in layers
        assert page.get_by_test_id("phase-label").inner_text().split("layer ")[-1] in (
            layers | {"forward", "cost", "backward", "update"})
