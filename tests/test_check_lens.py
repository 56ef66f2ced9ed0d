"""Tests for engine.check.lens: the link from a report to the lens view of what differs,
in a run whose layers are the failing case's."""

import pytest

from app.lessons import built_in_lessons
from engine.check import lens
from engine.check.cases import CASES
from engine.check.course_functions import BY_NAME
from engine.check.lens import BY_MISTAKE, lens_link, lens_query
from engine.check.mistake_hints import MISTAKES
from engine.check.outcomes import Failure
from engine.check.verdict import check_function
from engine.config import normalize_config

URL = "http://127.0.0.1:8000"
COURSE_2 = "the course's test case (2 layers)"
COURSE_3 = "the course's test case (3 layers)"
DEEP = "a deep net, layer_dims [4, 6, 5, 4, 3, 1]"
CACHE_HOLDS_A = "lesson=bug-activation-cache-holds-a"


def failure(function, case=None, mistake=None, layer=None):
    return Failure(function, "what", "expected", "got", "hint", case, "values", None, mistake,
                   layer)


@pytest.mark.parametrize(("function", "case", "mistake", "layer", "query"), [
    # a one-layer function: a hidden layer or the output layer of the page's default run
    ("relu_backward", None, "relu_mask_inverted", None, "it=0&phase=backward-1&layer=1"),
    ("sigmoid", None, None, None, "it=0&phase=forward-3&layer=3"),
    ("linear_backward", "the course's test case", None, None, "it=0&phase=backward-1&layer=1"),
    ("compute_cost", "the course's test case", "cost_without_1_over_m", None,
     "it=0&phase=cost&layer=3"),
    # ... as the failing case's activation says
    ("linear_activation_forward", 'the course\'s test case, activation="sigmoid"',
     "activation_cache_holds_A", None, CACHE_HOLDS_A),
    ("linear_activation_forward", 'one example (m = 1), activation="relu"',
     "activation_cache_holds_A", None, CACHE_HOLDS_A),
    ("linear_activation_backward", 'the course\'s test case, activation="relu"', None, None,
     "it=0&phase=backward-1&layer=1"),
    # a whole-net function: a run with the failing case's layers, and the layer it names
    # (the cost phase's code computes dAL)
    ("L_model_backward", COURSE_2, "dAL_sign_flipped", 2,
     "hidden_layers=3&it=0&phase=cost&layer=2"),
    ("L_model_backward", DEEP + ", hidden Z exactly 0 in places", "dAL_sign_flipped", 5,
     "hidden_layers=6,5,4,3&it=0&phase=cost&layer=5"),
    ("L_model_backward", COURSE_2, "output_backward_relu", 2,
     "hidden_layers=3&it=0&phase=backward-2&layer=2"),
    ("L_model_backward", COURSE_2, "dZL_as_AL_minus_Y", 1,
     "hidden_layers=3&it=0&phase=backward-2&layer=2"),
    ("L_model_backward", COURSE_2, "dAL_kept_in_grads", None,
     "hidden_layers=3&it=0&phase=backward-2&layer=2"),
    ("L_model_backward", COURSE_2, "hidden_backward_sigmoid", 2,
     "hidden_layers=3&it=0&phase=backward-1&layer=1"),
    ("L_model_backward", COURSE_2, None, 1, "hidden_layers=3&it=0&phase=backward-1&layer=1"),
    ("L_model_forward", COURSE_3, "hidden_layers_sigmoid", None,
     "hidden_layers=4,3&it=0&phase=forward-1&layer=1"),
    ("L_model_forward", COURSE_3, None, 2, "hidden_layers=4,3&it=0&phase=forward-2&layer=2"),
    ("L_model_forward", COURSE_3, None, None, "hidden_layers=4,3&it=0&phase=forward-3&layer=3"),
    ("L_model_forward", "one layer (logistic regression)", None, None,
     "hidden_layers=&it=0&phase=forward-1&layer=1"),
    ("update_parameters", "the course's test case, learning_rate 0.1", "update_adds", 1,
     "lesson=bug-wrong-update-sign"),
    ("initialize_parameters_deep", DEEP, "init_not_scaled", 1,
     "init=course&hidden_layers=6,5,4,3&it=0&phase=forward-1&layer=1"),
    # no case known (the process was stopped): the default run
    ("update_parameters", None, None, None, "it=0&phase=update&layer=3"),
])
def test_the_link_opens_the_view_of_the_failure(function, case, mistake, layer, query):
    found = failure(function, case, mistake, layer)
    assert lens_link(URL, found) == f"{URL}/?{query}"
    assert lens_link(URL + "/", found) == f"{URL}/?{query}"


def test_without_a_failure_the_link_opens_the_page():
    assert lens_link(URL, None) == lens_link(URL, failure(None)) == URL + "/"


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: f"{m.function}-{m.name}")
def test_every_recognised_mistake_links_to_a_phase_and_layer_of_a_valid_run(mistake):
    found = check_function(BY_NAME[mistake.function], mistake.code).failure
    query = lens_query(found)
    if mistake.name in lens.LESSONS:  # the lesson's own run and view
        assert query == {"lesson": lens.LESSONS[mistake.name]["lesson"]}
        return
    widths = [int(w) for w in query.get("hidden_layers", "8,8").split(",") if w]
    assert 1 <= query["layer"] <= len(widths) + 1
    assert query["phase"] in ("cost", "update", f"forward-{query['layer']}",
                              f"backward-{query['layer']}")
    assert normalize_config({"hidden_layers": widths})["hidden_layers"] == widths


def layer_widths(name, args) -> list[int]:
    """The widths n[1], ..., n[L] of the net a whole-net function's arguments hold."""
    if name == "initialize_parameters":
        return list(args[1:])
    if name == "initialize_parameters_deep":
        return list(args[0][1:])
    if name == "L_model_backward":
        return [cache[0][1].shape[0] for cache in args[2]]
    parameters = args[1] if name == "L_model_forward" else args[0]
    return [parameters[f"W{l}"].shape[0] for l in range(1, len(parameters) // 2 + 1)]


@pytest.mark.parametrize("name", ["initialize_parameters", "initialize_parameters_deep",
                                  "L_model_forward", "L_model_backward", "update_parameters"])
def test_a_whole_net_case_knows_its_hidden_layers(name):
    """The widths the link asks for are those of the net the case builds."""
    for case in CASES[name]:
        assert case.hidden == tuple(layer_widths(name, case.make())[:-1]), case.label


@pytest.mark.parametrize(("function", "mistake", "query"), [
    # a bare lesson link: it opens the lesson's own run and view
    ("linear_backward", "dW_without_1_over_m", "lesson=bug-missing-1-over-m"),
    ("linear_activation_backward", "layer_without_activation_derivative",
     "lesson=bug-no-activation-derivative"),
    ("sigmoid", "sigmoid_caches_A", CACHE_HOLDS_A),
    # a mistake that no bug lesson shows: the link names no lesson
    ("linear_backward", "dA_prev_with_1_over_m", "it=0&phase=backward-1&layer=1"),
])
def test_the_link_names_the_lesson_and_bug_that_show_the_mistake(function, mistake, query):
    found = check_function(BY_NAME[function], BY_MISTAKE[(function, mistake)].code).failure
    assert found.mistake == mistake
    assert lens_link("http://x", found) == f"http://x/?{query}"


@pytest.mark.parametrize(("mistake", "target"), sorted(lens.LESSONS.items()))
def test_each_linked_lesson_is_a_built_in_lesson_of_that_bug(mistake, target):
    lessons = {lesson["id"]: lesson for lesson in built_in_lessons()}
    assert mistake in {m.name for m in MISTAKES}
    assert lessons[target["lesson"]]["config"]["bug"] == target["bug"]
