"""What the page shows in front of the learner is what the engine recorded: a clicked dZ
entry with dropout, the cache explainer's columns, and the gradient check's words."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import expect_words, is_run_post, open_page, slot_point, step_tensor

DROPOUT_VIEW = "?keep_prob=0.8&activations=tanh,tanh,sigmoid&it=20&phase=backward-2&layer=2"
# clicks across the middle of the dZ heatmap, from its top row down (fractions of its box)
DZ_X = 0.5
DZ_YS = [0.08, 0.22, 0.36, 0.5, 0.64, 0.78]
NUMBER = r"[-+]?\d[\d.]*(?:e[-+]?\d+)?"


def shown_dz(page):
    """(row, col, the factors line, the value the formula ends with) from the formula."""
    formula = page.get_by_test_id("cell-formula")
    expect(formula).to_contain_text("recorded by the engine")
    text = formula.inner_text()
    where = re.search(r"dZ at row (\d+), column (\d+)", text)
    factors = re.search(r"\n= (\(.*)\n", text)[1]
    value = re.search(rf"= ({NUMBER})\s+\(recorded by the engine\)", text)
    return int(where[1]), int(where[2]), factors, float(value[1])


def test_dropout_dz_formula_shows_its_served_factors_and_value(page, server):
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, DROPOUT_VIEW)
    run_id = answer.value.json()["id"]
    dZ = step_tensor(page, server, run_id, 20, 2, "dZ")
    page.get_by_test_id("view-cache").evaluate("el => el.scrollIntoView({block: 'center'})")
    checked = 0
    for y in DZ_YS:
        page.keyboard.press("Escape")  # the last formula's popover may cover this cell
        page.mouse.click(*slot_point(page, "dZ", DZ_X, y))
        expect(page.get_by_test_id("cell-formula")).to_contain_text("dZ[2]")
        formula = page.get_by_test_id("cell-formula").inner_text()
        assert "D[2]" in formula and "/ 0.8" in formula and "tanh′(Z[2]" in formula
        row, col, factors, shown = shown_dz(page)
        # dA ⊙ D / keep_prob ⊙ tanh′(Z), with this cell's served dA, D and Z (4 digits)
        dA, D, Z = (step_tensor(page, server, run_id, 20, 2, name)[row][col]
                    for name in ("dA", "D", "Z"))
        numbers = [float(v) for v in re.findall(NUMBER, factors.replace("tanh²", "tanh"))]
        assert numbers[:3] == pytest.approx([dA, D, 0.8], rel=1e-3, abs=1e-12)
        assert numbers[-1] == pytest.approx(Z, rel=1e-3, abs=1e-12)
        assert shown == pytest.approx(dZ[row][col], rel=1e-3, abs=1e-12)
        checked += dZ[row][col] != 0  # a kept unit: the mask and g'(Z) both matter
    assert checked >= 2
    code = page.get_by_test_id("view-code")
    expect(code).to_contain_text("dA = dA * D / keep_prob")
    expect(code).not_to_contain_text("D_prev")


def test_dropout_explainer_shows_the_recorded_columns(page, server):
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, DROPOUT_VIEW)
    run_id = answer.value.json()["id"]
    explainer = page.get_by_test_id("cache-explainer")
    expect(explainer).to_contain_text("with its dropout masks D")
    text = explainer.inner_text()
    for name, layer, field in (("A_prev", 1, "A"), ("Z", 2, "Z")):
        pattern = (r"column 0 of A_prev = \[([^\]]*)\]" if name == "A_prev"
                   else r"Column 0: \[([^\]]*)\]")
        shown = [float(v) for v in re.search(pattern, text)[1].split(", ") if v != "…"]
        recorded = [row[0] for row in step_tensor(page, server, run_id, 20, layer, field)][:4]
        assert shown == pytest.approx(recorded, rel=5e-3, abs=1e-9), name


PASSING = {"step": 3, "epsilon": 1e-7, "threshold": 2e-7, "passed": True, "sampled": False,
           "relative_difference": 6.812e-9, "skipped_at_kinks": 0, "noise_floor": 1e-9,
           "layers": [{"l": 1, "relative_difference": 6.5e-9, "checked": 24, "total": 24},
                      {"l": 2, "relative_difference": 1.0e-8, "checked": 72, "total": 72},
                      {"l": 3, "relative_difference": 1.4e-9, "checked": 9, "total": 9}]}
WITHIN_NOISE = {**PASSING, "relative_difference": 3.127e-6, "sampled": True, "skipped_at_kinks": 5,
                "layers": [{"l": 1, "relative_difference": 3.1e-6, "checked": 20, "total": 24},
                           *PASSING["layers"][1:]]}
# (answer of the gradcheck route, phrases the panel shows, phrases it must not show)
GRADCHECK_CASES = [
    (PASSING, ["relative difference 6.812e-9 < 2e-7", "backprop agrees with the numerical gradient",
               "all 24 parameters"], ["≥", "skipped", "sampled"]),
    (WITHIN_NOISE, ["relative difference 3.127e-6 ≥ 2e-7",
                    "within the rounding noise of the numerical gradient at ε = 1e-7",
                    "sampled 20 of 24 parameters",
                    "5 entries skipped: their ±ε crossed a ReLU kink"], ["< 2e-7", "agrees"]),
]


@pytest.mark.parametrize(("result", "shown", "absent"), GRADCHECK_CASES, ids=["passes", "noise"])
def test_gradcheck_panel_words_the_verdict(page, server, result, shown, absent):
    page.route(re.compile(r"/steps/\d+/gradcheck$"), lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(result)))
    open_page(page, server, "?it=3")
    status = page.locator(".gradcheck-status")
    expect(status).to_contain_text("Iteration 3")
    expect_words(status, shown, absent)
    expect(status).to_have_class(re.compile("pass"))


def test_gradcheck_panel_passes_on_the_real_server(page, server):
    open_page(page, server, "?it=3")
    status = page.locator(".gradcheck-status")
    expect(status).to_contain_text("Iteration 3")
    expect(status).to_contain_text("< 2e-7, so backprop agrees with the numerical gradient")
    expect(status).to_contain_text("layer 3:")
    expect(status).not_to_contain_text("≥")


def test_the_db_formula_writes_its_served_terms_as_a_sum(page, server):
    """db = (1/m) Σ dZ: the first terms are the served dZ row, a negative one after the
    first written with its sign as the operator ("− 0.27", not "+ -0.27")."""
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, "?it=20&phase=backward-2&layer=2")
    run_id = answer.value.json()["id"]
    dZ = step_tensor(page, server, run_id, 20, 2, "dZ")
    page.get_by_test_id("view-cache").evaluate("el => el.scrollIntoView({block: 'center'})")
    page.mouse.click(*slot_point(page, "db", 0.5, 2.5 / 8))  # row 2: 0.47, -0.11, -0.01, 0
    formula = page.get_by_test_id("cell-formula")
    expect(formula).to_contain_text("recorded by the engine")
    text = formula.inner_text()
    row = int(re.search(r"db\[2\](\d+)", text)[1])  # its subscript: the clicked row
    terms = re.search(r"= \(1/320\) \((.*?)( \+ …)?\)\n", text)[1]
    assert "+ -" not in terms
    signed = re.findall(rf"(^|[+−]) ?({NUMBER})", terms)
    values = [float(v) * (-1 if sign == "−" else 1) for sign, v in signed]
    assert values == pytest.approx(dZ[row][:4], rel=2e-3, abs=1e-9)
    assert row == 2 and "−" in terms


# a run with a classic mistake records its mistaken gradients: (query, the clicked slot,
# the words of the formula as that code computes it, words it must not show)
MISTAKEN = [
    ("?bug=missing_1_over_m&it=0&phase=backward-1&layer=1", "dW",
     ["dW[1]", "= Σj dZ[1]", "the mistake: no 1/m (missing_1_over_m)"], ["(1/m)", "(1/320)"]),
    ("?bug=no_activation_derivative&it=0&phase=backward-3&layer=3", "dZ",
     ["dZ[3]", "the mistake: no × g′(Z), dZ is dA"], ["− Y", "sigmoid′"]),
]


@pytest.mark.parametrize(("query", "slot", "shown", "absent"), MISTAKEN,
                         ids=["missing_1_over_m", "no_activation_derivative"])
def test_a_mistaken_runs_formula_is_its_codes_and_gives_the_correct_value_beside(
        page, server, query, slot, shown, absent):
    """The formula of a bug run's gradient is the mistaken code's, whose served value it
    ends with (the correct formula would not add up to it), and the correct code's value
    (true_grads) follows."""
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, query)
    run_id = answer.value.json()["id"]
    page.get_by_test_id("view-cache").evaluate("el => el.scrollIntoView({block: 'center'})")
    page.mouse.click(*slot_point(page, slot, 0.3, 0.3))
    formula = page.get_by_test_id("cell-formula")
    expect(formula).to_contain_text("true_grads")
    text = formula.inner_text()
    expect_words(formula, shown, absent)
    row, col = (int(v) for v in re.search(rf"{slot} at row (\d+), column (\d+)", text).groups())
    layer = int(re.search(r"layer=(\d)", query)[1])
    entry = page.request.get(f"{server}/api/runs/{run_id}/steps/0?layers={layer}&fields={slot}"
                             ).json()["layers"][0]
    recorded, truth = (entry[kind][slot]["data"][row][col] for kind in ("grads", "true_grads"))
    assert recorded != pytest.approx(truth, rel=1e-3)
    value = re.search(rf"= ({NUMBER})\s+\(recorded by the engine\)", text)[1]
    correct = re.search(rf"the correct code gives ({NUMBER})\s+\(true_grads\)", text)[1]
    assert float(value) == pytest.approx(recorded, rel=1e-3)
    assert float(correct) == pytest.approx(truth, rel=1e-3)
