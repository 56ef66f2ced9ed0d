"""The first load teaches: a "myth and truth" card states the forum's answer and refutes
it with this run's own shapes and values; closed, it stays closed across reloads, and the
inspector's "myth and truth" button opens it again."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import is_run_post, open_page

NUMBER = r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
KEY = "backprop-lens:myth-card"


def fresh_visit(page, server, query=""):
    """The page as a first visitor sees it: nothing remembered about the card."""
    open_page(page, server, query)  # drawn, so its own run's answer is not awaited below
    page.evaluate(f"() => localStorage.removeItem('{KEY}')")
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, query)
    return answer.value.json()["id"]


def served(page, server, run_id, t, layer):
    answer = page.request.get(
        f"{server}/api/runs/{run_id}/steps/{t}?layers={layer}&fields=A_prev,W,b,Z,A")
    entry = answer.json()["layers"][0]
    return {**entry["linear_cache"], **entry["activation_cache"], "A": entry["A"]}


ZERO_INIT = "?init=zeros&activations=sigmoid,sigmoid,sigmoid&it=20&layer=2"


@pytest.mark.parametrize(("query", "t", "layer"), [("", 0, 1), (ZERO_INIT, 20, 2)],
                         ids=["default", "zeros-sigmoid-layer2"])
def test_the_card_refutes_the_myth_with_this_runs_numbers(page, server, query, t, layer):
    run_id = fresh_visit(page, server, query)
    card = page.get_by_test_id("myth-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text("“linear_cache stores Z, activation_cache stores A.”")
    expect(card).to_contain_text(f"iteration {t}")
    T = served(page, server, run_id, t, layer)
    shape = lambda name: " × ".join(map(str, T[name]["shape"]))  # noqa: E731
    expect(card).to_contain_text(
        f"linear_cache[{layer}] holds A_prev ({shape('A_prev')}), W[{layer}] ({shape('W')}) "
        f"and b[{layer}] ({shape('b')}) — not Z")
    expect(card).to_contain_text(f"activation_cache[{layer}] holds Z[{layer}] ({shape('Z')})")
    text = card.inner_text()
    z = re.search(rf"Z\[{layer}\] \([^)]*\), whose entry \[(\d+), (\d+)\] is ({NUMBER})", text)
    a = re.search(rf"not A\[{layer}\], whose entry \[(\d+), (\d+)\] is ({NUMBER})", text)
    assert z and a, text
    i, j = int(z[1]), int(z[2])
    assert (int(a[1]), int(a[2])) == (i, j)
    # printed to 3 digits
    assert float(z[3]) == pytest.approx(T["Z"]["data"][i][j], rel=5e-3, abs=1e-12)
    assert float(a[3]) == pytest.approx(T["A"]["data"][i][j], rel=5e-3, abs=1e-12)
    assert float(z[3]) != float(a[3]), "the entry shows Z and A apart"


def test_the_card_closes_by_keyboard_stays_closed_and_reopens(page, server):
    fresh_visit(page, server)
    card, reopen = page.get_by_test_id("myth-card"), page.get_by_test_id("myth-reopen")
    expect(card).to_be_visible()
    expect(reopen).to_be_hidden()
    close = card.get_by_role("button", name="close the myth and truth card")
    close.focus()
    page.keyboard.press("Enter")
    expect(card).to_be_hidden()
    expect(reopen).to_be_focused()
    open_page(page, server)  # a reload: the card stays closed
    expect(reopen).to_be_visible()
    page.wait_for_timeout(300)
    expect(card).to_be_hidden()
    reopen.click()
    expect(card).to_be_visible()
    expect(card).to_contain_text("linear_cache[1] holds A_prev")
    assert page.evaluate(f"() => localStorage.getItem('{KEY}')") is None


@pytest.mark.parametrize(("query", "said", "layer"), [
    ("?dataset=sine&it=3&layer=3", "layer 3 is linear, so A[3] = Z[3] holds the same numbers", 3),
    ("?init=zeros&it=5&layer=1", "every unit's Z[1] and A[1] are equal (entry [0, ", 1),
], ids=["linear-output", "relu-zero-init"])
def test_the_card_does_not_contrast_two_equal_numbers(page, server, query, said, layer):
    """A linear layer's A is its Z, and a zero init's ReLU layer has Z = A = 0: an entry of
    each would read "is 0 — not A, whose entry is 0"; the card says why they agree."""
    fresh_visit(page, server, query)
    card = page.get_by_test_id("myth-card")
    expect(card).to_contain_text(said)
    expect(card).not_to_contain_text(f"not A[{layer}], whose entry")
    expect(card).to_contain_text(f"activation_cache[{layer}] holds Z[{layer}]")


def test_a_run_of_the_myths_own_mistake_says_its_cache_holds_a(page, server):
    """The bug activation_cache_holds_A is the myth: the card does not call Z "the truth, in
    this run", but says this run caches A, and what the correct code keeps."""
    fresh_visit(page, server, "?lesson=bug-activation-cache-holds-a")
    card = page.get_by_test_id("myth-card")
    expect(card).to_contain_text("This run makes that mistake (bug activation_cache_holds_A): "
                                 "its activation_cache[2] holds A[2]")
    expect(card).to_contain_text("The correct code (framed below, iteration 0): linear_cache[2]")
    expect(card).not_to_contain_text("Truth, in this run")


def test_a_cache_not_written_yet_is_said_to_be_on_its_way(page, server):
    """Forward at layer 1 draws cache[3] faded, "not computed yet": the card's numbers are
    what this iteration's forward will write there, and it says so."""
    fresh_visit(page, server, "?it=5&phase=forward-1&layer=3")
    card = page.get_by_test_id("myth-card")
    expect(card).to_contain_text("(iteration 5, once forward reaches layer 3)")
    page.get_by_test_id("phase-next").click()
    page.get_by_test_id("phase-next").click()  # forward · layer 3: written now
    expect(page.get_by_test_id("phase-label")).to_contain_text("layer 3")
    expect(card).to_contain_text("(iteration 5)")
