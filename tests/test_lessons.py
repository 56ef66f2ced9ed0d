"""Tests for app.lessons: the built-in lessons load and each does what it says, checked on
its trained runs through the engine (never by reading its text); a lesson file is
validated, a teacher's bad file is skipped with a warning, a bad built-in one stops the app."""

import json
import logging
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from app import lessons
from app.lessons import LessonError, load_lessons, read_lesson
from app.run_ids import encode_run_id
from app.settings import Settings
from engine.config import normalize_config
from engine.mistakes import BUGS
from engine.run import Run
from engine.work_estimate import run_flops

pytestmark = pytest.mark.usefixtures("pinned_blas")
BUILT_IN = lessons.built_in_lessons()
BY_ID = {lesson["id"]: lesson for lesson in BUILT_IN}
BUG_LESSONS = [lesson for lesson in BUILT_IN if lesson["config"]["bug"] is not None]
REQUIRED = {"caches", "zeros-symmetry", "vanishing-sigmoid", "he-vs-course", "divergence",
            "dropout-mask", "l2-shrinks-w", "adam-vs-gd", "minibatch-noise", "softmax-digits",
            "bug-activation-cache-holds-a", "bug-missing-1-over-m",
            "bug-no-activation-derivative", "bug-wrong-update-sign",
            "bug-dropout-mask-forgotten", "bug-l2-gradient-missing"}


@cache
def trained(run_id: str) -> Run:
    """The run of a lesson's config (or its comparison's), trained once per session."""
    config = next(c for lesson in BUILT_IN for c, i in runs_of(lesson) if i == run_id)
    return Run(config).train()


def runs_of(lesson):
    """(config, run id) of the lesson's run and of its comparison's, if any."""
    pairs = [(lesson["config"], lesson["run_id"])]
    if lesson["compare"]:
        pairs.append((lesson["compare"]["config"], lesson["compare"]["run_id"]))
    return pairs


def own_run(lesson_id) -> Run:
    return trained(BY_ID[lesson_id]["run_id"])


def compared_run(lesson_id) -> Run:
    return trained(BY_ID[lesson_id]["compare"]["run_id"])


def final(run, series="cost"):
    return float(run.summary()[series][run.num_steps - 1])


def last_norms(run, statistic="W_norm"):
    return np.array([layer[statistic][run.num_steps - 1] for layer in run.summary()["layers"]])


def layer(record, l):
    return record["layers"][l - 1]


# -- the built-in lessons -----------------------------------------------------------------------

def test_every_required_lesson_is_built_in_once_with_a_slug_id():
    ids = [lesson["id"] for lesson in BUILT_IN]
    assert len(ids) == len(set(ids))
    assert set(ids) >= REQUIRED


def test_each_bug_has_a_lesson_compared_with_the_correct_code():
    assert sorted(lesson["config"]["bug"] for lesson in BUG_LESSONS) == sorted(BUGS)
    for lesson in BUG_LESSONS:
        assert lesson["compare"]["config"] == {**lesson["config"], "bug": None}, lesson["id"]
        assert (lesson["label"], lesson["compare"]["label"]) == ("with the bug", "correct code")


@pytest.mark.parametrize("lesson", BUILT_IN, ids=lambda lesson: lesson["id"])
def test_a_lesson_opens_at_once_and_its_ids_are_its_configs(lesson):
    """Its runs take the fast lane (a click opens them at once) and carry their configs."""
    for config, run_id in runs_of(lesson):
        assert run_flops(config) <= Settings().fast_lane_flops
        assert normalize_config(config) == config
        assert run_id == encode_run_id(config)


@pytest.mark.parametrize("lesson", BUILT_IN, ids=lambda lesson: lesson["id"])
def test_every_view_of_a_lesson_shows_a_recorded_step(lesson):
    """A diverged run records fewer steps than its config asks: its views stay inside."""
    run = own_run(lesson["id"])
    for view in [lesson["view"], *(stop["view"] for stop in lesson["tour"])]:
        assert view["it"] < run.num_steps, (lesson["id"], view)
    assert 2 <= len(lesson["look_for"]) <= 4 and lesson["tour"] and lesson["question"]



# -- each lesson does what it says: a promise per lesson id, checked on its trained runs --------

def caches_hold_the_layer_inputs_and_Z():
    run = own_run("caches")
    record = run.step_record(0)
    X = record["batch"]["X"]
    for l, entry in enumerate(record["layers"], start=1):
        A_prev = X if l == 1 else layer(record, l - 1)["A"]
        assert np.array_equal(entry["linear_cache"]["A_prev"], A_prev)
        W, b = entry["linear_cache"]["W"], entry["linear_cache"]["b"]
        np.testing.assert_allclose(entry["activation_cache"]["Z"], W @ A_prev + b, rtol=1e-12)
    Z1 = layer(record, 1)["activation_cache"]["Z"]
    assert np.array_equal(layer(record, 1)["A"], np.maximum(Z1, 0))  # A is relu(Z), not Z
    assert (Z1 < 0).any()


def units_stay_identical_with_zeros():
    run = own_run("zeros-symmetry")
    record = run.step_record(run.num_steps - 1)
    for entry in record["layers"][:-1]:
        W, Z = entry["linear_cache"]["W"], entry["activation_cache"]["Z"]
        assert np.abs(W).max() > 1e-3  # the weights moved ...
        np.testing.assert_allclose(W, np.repeat(W[:1], len(W), axis=0), rtol=0, atol=1e-12)
        np.testing.assert_allclose(Z, np.repeat(Z[:1], len(Z), axis=0), rtol=0, atol=1e-12)
    he = compared_run("zeros-symmetry")  # random weights: the units differ, the net learns more
    assert final(he) < final(run) and final(he, "test_accuracy") > final(run, "test_accuracy")


def early_layers_of_the_deep_sigmoid_net_get_tiny_gradients():
    run, relu = own_run("vanishing-sigmoid"), compared_run("vanishing-sigmoid")
    norms = np.array([entry["dW_norm"][0] for entry in run.summary()["layers"]])
    assert (np.diff(norms) > 0).all()  # smaller at each layer down
    assert norms[0] / norms[-1] < 1e-3
    relu_norms = [entry["dW_norm"][0] for entry in relu.summary()["layers"]]
    assert relu_norms[0] / relu_norms[-1] > 10 * norms[0] / norms[-1]
    assert final(run) > 0.68  # log 2: only the mean is learned
    # by iteration 10 the gap closed from above: ‖dW[6]‖ fell once the mean was learned
    at_10 = np.array([entry["dW_norm"][10] for entry in run.summary()["layers"]])
    assert at_10.max() / at_10.min() < 3 and 5e-4 < at_10[-1] < 7e-4
    assert abs(run.summary()["cost"][10] - np.log(2)) < 1e-3


def he_learns_where_the_course_init_does_not():
    he, course = own_run("he-vs-course"), compared_run("he-vs-course")
    assert final(he) < 0.2 < 0.68 < final(course)
    spread = [entry["Z_std"][0] for entry in course.summary()["layers"]]
    assert (np.diff(np.log10(spread)) < -1).all()  # ×0.01: Z 10+ times smaller each layer


def the_learning_rate_diverges():
    run, small = own_run("divergence"), compared_run("divergence")
    assert run.status == "diverged" and run.diverged["step"] == run.num_steps - 1 < 20
    costs = np.array(run.summary()["cost"][:4], dtype=float)
    assert (np.diff(costs) > 0).all()
    assert small.status == "done" and final(small) < run.summary()["cost"][0]


def dropout_masks_forward_and_backward():
    run = own_run("dropout-mask")
    record, keep = run.step_record(0), run.config["keep_prob"]
    for entry in record["layers"][:-1]:
        D = entry["D"]
        assert set(np.unique(D)) == {0.0, 1.0}
        assert 0.1 < (D == 0).mean() < 0.3
        relu = np.maximum(entry["activation_cache"]["Z"], 0)
        np.testing.assert_allclose(entry["A"], relu * D / keep, rtol=1e-12)
        assert (entry["grads"]["dZ"][D == 0] == 0).all()
    assert record["layers"][-1]["D"] is None
    assert not np.array_equal(layer(record, 1)["D"], layer(run.step_record(1), 1)["D"])


def l2_shrinks_every_W():
    with_l2, without = last_norms(own_run("l2-shrinks-w")), last_norms(compared_run("l2-shrinks-w"))
    assert (with_l2 < without).all()
    # the tour names both runs' final ‖W[l]‖, to 2 decimals
    said = BY_ID["l2-shrinks-w"]["tour"][1]["say"]
    for norms in (with_l2, without):
        assert ", ".join(f"{v:.2f}" for v in norms[:-1]) + f" and {norms[-1]:.2f}" in said, said


def adam_is_ahead_of_gd_at_the_same_step():
    adam, gd = own_run("adam-vs-gd").summary()["cost"], compared_run("adam-vs-gd").summary()["cost"]
    for t in (BY_ID["adam-vs-gd"]["view"]["it"], 50, 299):
        assert adam[t] < gd[t] / 2, t


def minibatch_cost_zigzags():
    rises = [int((np.diff(np.array(run.summary()["cost"], dtype=float)) > 0).sum())
             for run in (own_run("minibatch-noise"), compared_run("minibatch-noise"))]
    assert rises[0] > 50 and rises[1] <= 5


def softmax_gives_probabilities_of_ten_digits():
    run = own_run("softmax-digits")
    record = run.step_record(run.num_steps - 1)
    A, Y = layer(record, 2)["A"], record["batch"]["Y"]
    assert A.shape[0] == 10
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=1e-12)
    np.testing.assert_allclose(layer(record, 2)["grads"]["dZ"], A - Y, atol=1e-12)
    assert final(run, "test_accuracy") > 0.85


PROMISES = {
    "caches": caches_hold_the_layer_inputs_and_Z,
    "zeros-symmetry": units_stay_identical_with_zeros,
    "vanishing-sigmoid": early_layers_of_the_deep_sigmoid_net_get_tiny_gradients,
    "he-vs-course": he_learns_where_the_course_init_does_not,
    "divergence": the_learning_rate_diverges,
    "dropout-mask": dropout_masks_forward_and_backward,
    "l2-shrinks-w": l2_shrinks_every_W,
    "adam-vs-gd": adam_is_ahead_of_gd_at_the_same_step,
    "minibatch-noise": minibatch_cost_zigzags,
    "softmax-digits": softmax_gives_probabilities_of_ten_digits,
}


@pytest.mark.parametrize("lesson_id", sorted(PROMISES))
def test_the_lesson_keeps_its_promise(lesson_id):
    PROMISES[lesson_id]()


# a bug lesson: the layers whose gradient check fails at step 0 (the others pass), and what
# the mistaken gradients are against the true ones at that step, from the same θ
def grads_pair(record, l, name):
    entry = layer(record, l)
    return entry["grads"][name], entry["true_grads"][name]


def cache_holds_A(record, run):
    for l in (1, 2, 3):
        wrong, right = grads_pair(record, l, "dZ")
        assert not np.allclose(wrong, right), l
    costs = run.summary()["cost"]  # a quiet bug: the cost still falls, to a worse end
    assert costs[run.num_steps - 1] < costs[0] / 2
    assert final(run) > final(compared_run("bug-activation-cache-holds-a"))


def times_m(record, run):
    m = record["batch"]["X"].shape[1]
    for l in (1, 2, 3):
        for name in ("dW", "db"):
            np.testing.assert_allclose(*(g / s for g, s in zip(grads_pair(record, l, name),
                                                               (m, 1), strict=True)),
                                       rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(*grads_pair(record, l, "dZ"), rtol=1e-12, atol=1e-15)


def dZ_is_dA(record, run):
    entry = layer(record, 3)
    np.testing.assert_array_equal(entry["grads"]["dZ"], entry["grads"]["dA"])
    np.testing.assert_allclose(entry["true_grads"]["dZ"], entry["A"] - record["batch"]["Y"],
                               atol=1e-12)
    assert run.status == "diverged"


def update_adds(record, run):
    for l in (1, 2, 3):
        np.testing.assert_allclose(*grads_pair(record, l, "dW"), rtol=1e-12, atol=1e-15)
        entry = layer(record, l)
        np.testing.assert_allclose(entry["update"]["W"],
                                   run.config["learning_rate"] * entry["grads"]["dW"],
                                   rtol=1e-9, atol=1e-15)
    costs = run.summary()["cost"]
    assert costs[run.num_steps - 1] > 10 * costs[0]


def mask_forgotten(record, run):
    for l in (1, 2):
        D = layer(record, l)["D"]
        wrong, right = grads_pair(record, l, "dZ")
        assert (right[D == 0] == 0).all() and (wrong[D == 0] != 0).any()


def l2_missing(record, run):
    lam, m = run.config["l2"], record["batch"]["X"].shape[1]
    for l in (1, 2, 3):
        wrong, right = grads_pair(record, l, "dW")
        W = layer(record, l)["linear_cache"]["W"]
        np.testing.assert_allclose(right - wrong, lam / m * W, rtol=1e-9, atol=1e-15)
    assert (last_norms(run) > last_norms(compared_run("bug-l2-gradient-missing"))).all()


BUG_PROMISES = {  # lesson id: (layers whose check fails, what the grads are)
    "bug-activation-cache-holds-a": ({1, 2, 3}, cache_holds_A),
    "bug-missing-1-over-m": ({1, 2, 3}, times_m),
    "bug-no-activation-derivative": ({1, 2, 3}, dZ_is_dA),
    "bug-wrong-update-sign": (set(), update_adds),
    "bug-dropout-mask-forgotten": ({1, 2}, mask_forgotten),
    "bug-l2-gradient-missing": ({1, 2, 3}, l2_missing),
}


@pytest.mark.parametrize("lesson_id", sorted(BUG_PROMISES))
def test_a_bug_lesson_runs_the_bug_and_the_check_finds_it(lesson_id):
    failing, promise = BUG_PROMISES[lesson_id]
    run, correct = own_run(lesson_id), compared_run(lesson_id)
    assert run.bug_active and not correct.bug_active
    check = run.gradcheck(0)
    assert {entry["l"] for entry in check["layers"]
            if entry["relative_difference"] > check["threshold"]} == failing
    assert check["passed"] == (not failing)
    assert correct.gradcheck(0)["passed"]
    promise(run.step_record(0), run)
    assert final(run) != final(correct)


def test_every_lesson_has_a_promise():
    assert set(PROMISES) | set(BUG_PROMISES) == set(BY_ID)


# -- a lesson file: what loading checks ---------------------------------------------------------

GOOD = {"id": "my-lesson", "title": "A title", "summary": "What it shows.",
        "config": {"dataset": "xor", "hidden_layers": [3], "steps": 5},
        "view": {"it": 4, "phase": "backward-2", "layer": 2},
        "look_for": ["one thing", "another thing"],
        "tour": [{"view": {"phase": "forward-1"}, "say": "Look here."}],
        "question": "Why?"}


def lesson_bytes(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def test_a_good_lesson_file_is_served_complete():
    lesson = read_lesson(lesson_bytes(compare={"config": {"init": "zeros"}, "label": "zeros"}),
                         "x.json")
    assert lesson["config"] == normalize_config(GOOD["config"])
    assert lesson["run_id"] == encode_run_id(lesson["config"])
    # a tour stop's view is completed from the lesson's view
    assert lesson["tour"] == [{"view": {"it": 4, "phase": "forward-1", "layer": 2},
                               "say": "Look here."}]
    # the comparison's config is the lesson's with its fields changed
    other = normalize_config({**GOOD["config"], "init": "zeros"})
    assert lesson["compare"] == {"config": other, "run_id": encode_run_id(other),
                                 "label": "zeros"}
    assert lesson["label"] == "this run"


@pytest.mark.parametrize(("changes", "field"), [
    ({"id": "My Lesson"}, "id"),
    ({"id": "x" * 41}, "id"),
    ({"title": ""}, "title"),
    ({"title": "t" * 81}, "title"),
    ({"summary": "two\nlines"}, "summary"),
    ({"look_for": ["only one"]}, "look_for"),
    ({"look_for": ["a", "b", "c", "d", "e"]}, "look_for"),
    ({"look_for": ["a", 3]}, "look_for.1"),
    ({"question": "q" * 301}, "question"),
    ({"tour": []}, "tour"),
    ({"tour": [{"view": {}, "say": "s" * 401}]}, "tour.0.say"),
    ({"tour": [{"view": {"zoom": 2}, "say": "s"}]}, "tour.0.view.zoom"),
    ({"colour": "red"}, "colour"),
    ({"view": {"it": 4, "phase": "backward-2"}}, "view.layer"),
    ({"view": {"it": "4", "phase": "cost", "layer": 1}}, "view.it"),
    ({"view": {"it": 4, "phase": "sideways", "layer": 1}}, "view.phase"),
    ({"compare": {"config": {}}}, "compare.label"),
    # checked against the normalized config of the run
    ({"config": {"dataset": "mnist"}}, "config.dataset"),
    ({"config": {"steps": 5, "learning_rate": 0}}, "config.learning_rate"),
    ({"config": {"hidden_layers": [3], "activations": ["relu"]}}, "config.activations"),
    ({"compare": {"config": {"bug": "typo"}, "label": "x"}}, "compare.config.bug"),
    ({"view": {"it": 5, "phase": "cost", "layer": 1}}, "view.it"),
    ({"view": {"it": 0, "phase": "forward-3", "layer": 1}}, "view.phase"),
    ({"view": {"it": 0, "phase": "update", "layer": 3}}, "view.layer"),
    ({"tour": [{"view": {"it": 9}, "say": "s"}]}, "tour.0.view.it"),
    ({"tour": [{"view": {}, "say": "s"}, {"view": {"layer": 7}, "say": "s"}]},
     "tour.1.view.layer"),
])
def test_a_bad_lesson_file_is_refused_naming_the_field(changes, field):
    with pytest.raises(LessonError) as refused:
        read_lesson(lesson_bytes(**changes), "x.json")
    assert refused.value.field == field
    assert str(refused.value).startswith(f"lesson x.json: {field}: ")


def test_a_file_that_is_not_json_is_refused():
    with pytest.raises(LessonError) as refused:
        read_lesson(b'{"id": ', "x.json")
    assert refused.value.field == "json"


# -- where lessons come from: the package, a teacher's folder, this server's limits -------------

def write(folder, name, **changes):
    (folder / name).write_bytes(lesson_bytes(**changes))


def test_a_teachers_lessons_come_after_the_built_in_ones_in_file_name_order(tmp_path):
    write(tmp_path, "2-second.json", id="second")
    write(tmp_path, "1-first.json", id="first")
    (tmp_path / "notes.txt").write_text("not a lesson")
    ids = [lesson["id"] for lesson in load_lessons(Settings(lessons_dir=tmp_path))]
    assert ids == [lesson["id"] for lesson in BUILT_IN] + ["first", "second"]


@pytest.fixture
def warnings_logged(caplog):
    """The warnings app.lessons logs: caught at its logger, since the app's logger keeps
    them from the root logger once an app is made (app.main.configure_logging)."""
    logger = logging.getLogger("app.lessons")
    logger.addHandler(caplog.handler)
    with caplog.at_level(logging.WARNING, logger="app.lessons"):
        yield lambda: [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    logger.removeHandler(caplog.handler)


def test_a_teachers_bad_file_is_skipped_with_a_warning_naming_file_and_field(tmp_path,
                                                                           warnings_logged):
    write(tmp_path, "1-bad.json", id="bad", view={"it": 99, "phase": "cost", "layer": 1})
    write(tmp_path, "2-taken.json", id="caches")
    write(tmp_path, "3-good.json")
    served = load_lessons(Settings(lessons_dir=tmp_path))
    assert [lesson["id"] for lesson in served][len(BUILT_IN):] == ["my-lesson"]
    warnings = warnings_logged()
    assert any(str(tmp_path / "1-bad.json") in w and ": view.it: " in w for w in warnings)
    assert any(str(tmp_path / "2-taken.json") in w and ": id: 'caches' is already taken" in w
               for w in warnings)


def test_a_bad_built_in_lesson_stops_the_app(tmp_path, monkeypatch):
    write(tmp_path, "01-good.json")
    write(tmp_path, "02-bad.json", id="bad", config={"dataset": "mnist"})
    monkeypatch.setattr(lessons, "BUILT_IN", tmp_path)
    with pytest.raises(LessonError, match=r"lesson app/lessons/02-bad.json: config.dataset: "):
        load_lessons(Settings())


def test_two_built_in_lessons_may_not_share_an_id(tmp_path, monkeypatch):
    write(tmp_path, "01-one.json")
    write(tmp_path, "02-two.json")
    monkeypatch.setattr(lessons, "BUILT_IN", tmp_path)
    with pytest.raises(LessonError, match="id: 'my-lesson' is already taken"):
        load_lessons(Settings())


def test_a_lesson_over_this_servers_limits_is_left_out_with_a_warning(warnings_logged):
    served = load_lessons(Settings(max_steps=250))
    kept = {lesson["id"] for lesson in served}
    assert kept == {lesson["id"] for lesson in BUILT_IN if all(
        config["steps"] <= 250 for config, _ in runs_of(lesson))}
    assert "adam-vs-gd" not in kept
    assert any("lesson adam-vs-gd left out: config.steps is over this server's limits"
               in warning for warning in warnings_logged())


def test_the_lessons_folder_must_exist(tmp_path):
    with pytest.raises(ValueError, match="lessons_dir"):
        Settings(lessons_dir=tmp_path / "missing")


# -- docs/lessons.md: the lessons it lists and the example it gives -----------------------------

DOCS = Path(__file__).resolve().parents[1] / "docs" / "lessons.md"


def test_the_docs_list_every_built_in_lesson_with_its_title():
    section = DOCS.read_text().split("## The built-in lessons")[1].split("\n## ")[0]
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| ([^|]+) \|", section, re.M))
    assert rows == {lesson["id"]: lesson["title"] for lesson in BUILT_IN}


def test_the_docs_example_is_a_valid_lesson():
    [example] = re.findall(r"```json\n(.*?)```", DOCS.read_text(), re.S)
    assert read_lesson(example.encode(), "docs/lessons.md")["id"] == "xor-two-units"


def test_no_activation_derivative_saturates_its_outputs_as_its_last_step_says():
    """Its last step: by iteration 4 every output is exactly 0 or 1, where dA[3] reaches
    about 1e15, and a few steps later the numbers overflow."""
    lesson = BY_ID["bug-no-activation-derivative"]
    view, said = lesson["tour"][-1]["view"], lesson["tour"][-1]["say"]
    assert (view["it"], view["phase"]) == (4, "backward-3") and "iteration 4" in said
    run = own_run("bug-no-activation-derivative")
    output = layer(run.step_record(view["it"]), 3)
    assert set(np.unique(output["A"])) <= {0.0, 1.0}
    assert 5e14 < np.abs(output["grads"]["dA"]).max() < 2e15 and "1e15" in said
    assert run.status == "diverged" and run.diverged["step"] <= view["it"] + 5


def test_missing_1_over_m_flips_between_the_two_classes_as_its_lesson_says():
    """m times too large a step saturates the output, which then predicts all 0 and all 1 in
    turns: the train accuracy zig-zags around 0.5, as the tour's third stop says."""
    assert "zig-zags around 0.5" in BY_ID["bug-missing-1-over-m"]["tour"][2]["say"]
    accuracy = np.array(own_run("bug-missing-1-over-m").summary()["train_accuracy"][-20:])
    assert (np.abs(accuracy - 0.5) < 0.05).all()
    assert (np.diff(accuracy)[:-1] * np.diff(accuracy)[1:] < 0).all()  # up, down, up, ...


def test_missing_1_over_m_kills_layer_2_by_iteration_7_as_its_words_say():
    """The jumps of the first steps switch off every ReLU of layer 2: from iteration 7 every
    dW is exactly 0 and A[3] is one number for every example."""
    lesson = BY_ID["bug-missing-1-over-m"]
    assert "By iteration 7" in lesson["tour"][2]["say"]
    summary = own_run("bug-missing-1-over-m").summary()
    dead = np.array(summary["layers"][1]["dead_fraction"])
    assert dead[6] < 1 and (dead[7:] == 1).all()
    assert all((np.array(entry["dW_norm"][7:]) == 0).all() for entry in summary["layers"])


def test_wrong_update_sign_climbs_and_passes_the_gradient_check_as_its_words_say():
    """Its look-for list: the cost climbs every step until the sigmoid saturates, then
    levels off (the course's output gradient is 0 where A is exactly 0 or 1), and the
    gradient check passes up to iteration 12."""
    words = BY_ID["bug-wrong-update-sign"]["look_for"]
    assert ("the cost climbs every step until every y = 0 output is exactly 1 (iteration 78), "
            "then levels off; the correct code's falls") in words
    assert any("passes up to iteration 12" in w for w in words)
    run = own_run("bug-wrong-update-sign")
    changes = np.diff(run.summary()["cost"])
    assert (changes[:78] > 0).all() and np.abs(changes[78:]).max() < 1e-6
    assert all(run.gradcheck(t)["passed"] for t in range(13))
    assert not run.gradcheck(13)["passed"]
    outputs = [layer(run.step_record(t), 3)["A"][run.data.Y_train == 0] for t in (12, 13, 77, 78)]
    # "the first 3 at iteration 13, all by 78"
    assert [int((A == 1).sum()) for A in outputs] == [0, 3, 78, 79]
