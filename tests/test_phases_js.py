"""static/js/phases.js, run by Node: its one table of what each phase reads and writes
gives the phase banner's words, the cache inspector's read and written tensors and frames,
and the quiz's "which does it read" answers; no other module keeps a copy of it."""

import re

import pytest

from tests.node_runner import STATIC_JS, call_js, needs_node

PLAIN = {"keep_prob": 1, "l2": 0, "optimizer": "gd"}
DROPOUT = {**PLAIN, "keep_prob": 0.8}
L2 = {**PLAIN, "l2": 0.1}
# the classic mistakes that change what backward reads (engine/mistakes.py)
FORGOTTEN = {**DROPOUT, "bug": "dropout_mask_forgotten_in_backward"}
CACHES_A = {**PLAIN, "bug": "activation_cache_holds_A"}
NO_G_PRIME = {**PLAIN, "bug": "no_activation_derivative"}

# (phase, L, config, the banner)
BANNERS = [
    ({"kind": "forward", "l": 1}, 3, PLAIN,
     "forward, layer 1: reads A[0] = X, W[1], b[1]; writes Z[1], A[1], "
     "linear_cache[1] = (A[0], W[1], b[1]), activation_cache[1] = Z[1]"),
    ({"kind": "forward", "l": 2}, 3, DROPOUT,
     "forward, layer 2: reads A[1], W[2], b[2]; writes Z[2], A[2], D[2], "
     "linear_cache[2] = (A[1], W[2], b[2]), activation_cache[2] = Z[2]"),
    ({"kind": "cost", "l": 3}, 3, L2,
     "cost: reads A[3], Y, W[1..3] (L2 term); writes J (the cost), dA[3] (start of backward)"),
    ({"kind": "backward", "l": 2}, 3, DROPOUT,
     "backward, layer 2: reads dA[2], D[2] (dropout mask), linear_cache[2] = (A[1], W[2], b[2]), "
     "activation_cache[2] = Z[2]; writes dZ[2], dW[2], db[2], dA[1]"),
    # the output layer has no mask, and layer 1 writes no dA[0]
    ({"kind": "backward", "l": 1}, 1, DROPOUT,
     "backward, layer 1: reads dA[1], linear_cache[1] = (A[0], W[1], b[1]), "
     "activation_cache[1] = Z[1]; writes dZ[1], dW[1], db[1]"),
    # the classic mistake's code caches A (the inspector frames the correct Z beside it)
    ({"kind": "backward", "l": 2}, 3, {**PLAIN, "bug": "activation_cache_holds_A"},
     "backward, layer 2: reads dA[2], linear_cache[2] = (A[1], W[2], b[2]), "
     "activation_cache[2] = A[2] (the mistake; the correct code's holds Z[2]); "
     "writes dZ[2], dW[2], db[2], dA[1]"),
    # the mistake's backward reads no mask
    ({"kind": "backward", "l": 2}, 3, FORGOTTEN,
     "backward, layer 2: reads dA[2], linear_cache[2] = (A[1], W[2], b[2]), "
     "activation_cache[2] = Z[2]; writes dZ[2], dW[2], db[2], dA[1]"),
    ({"kind": "update", "l": None}, 2, {**PLAIN, "optimizer": "adam"},
     "update: reads W[1..2], b[1..2], dW[1..2], db[1..2]; "
     "writes W[1..2], b[1..2] for the next iteration (adam)"),
]


@needs_node
def test_the_banner_says_what_the_table_holds():
    got = call_js("phases.js", [["phaseSentence", p, L, c] for p, L, c, _ in BANNERS])
    assert got == [banner for *_, banner in BANNERS]


def split(roles):
    """({read names}, {written names}) of a layerRoles answer."""
    return tuple({n for n, r in roles.items() if r == role} for role in ("read", "write"))


# (phase, layer, config, read, written) for L = 3: names of the inspector's slots and frames
ROLES = [
    ({"kind": "forward", "l": 2}, 2, PLAIN, {"A_prev", "W", "b"},
     {"Z", "A", "linear_cache", "activation_cache"}),
    ({"kind": "forward", "l": 2}, 2, DROPOUT, {"A_prev", "W", "b"},
     {"Z", "A", "D", "linear_cache", "activation_cache"}),
    # forward 1 writes A[1]: layer 2's A_prev; forward 3 reads A[2] as its own A_prev only
    ({"kind": "forward", "l": 1}, 2, PLAIN, set(), {"A_prev"}),
    ({"kind": "forward", "l": 3}, 2, PLAIN, set(), set()),
    ({"kind": "cost", "l": 3}, 3, PLAIN, {"A"}, {"dA"}),
    ({"kind": "cost", "l": 3}, 1, L2, {"W"}, set()),
    ({"kind": "backward", "l": 2}, 2, PLAIN,
     {"dA", "A_prev", "W", "b", "Z", "linear_cache", "activation_cache"}, {"dZ", "dW", "db"}),
    ({"kind": "backward", "l": 2}, 2, DROPOUT,
     {"dA", "D", "A_prev", "W", "b", "Z", "linear_cache", "activation_cache"}, {"dZ", "dW", "db"}),
    ({"kind": "backward", "l": 3}, 2, PLAIN, set(), {"dA"}),
    # the mistakes' backward reads A[2] from its activation_cache, or no mask
    ({"kind": "backward", "l": 2}, 2, CACHES_A,
     {"dA", "A_prev", "W", "b", "A", "linear_cache", "activation_cache"}, {"dZ", "dW", "db"}),
    ({"kind": "backward", "l": 2}, 2, FORGOTTEN,
     {"dA", "A_prev", "W", "b", "Z", "linear_cache", "activation_cache"}, {"dZ", "dW", "db"}),
    ({"kind": "update", "l": None}, 2, PLAIN, {"dW", "db"}, {"W", "b"}),
]


@needs_node
def test_the_inspector_marks_what_the_table_holds():
    got = call_js("phases.js", [["layerRoles", p, l, 3, c] for p, l, c, *_ in ROLES])
    assert [split(roles) for roles in got] == [(read, written) for *_, read, written in ROLES]


# (phase, L, config, what the quiz counts as read)
READS = [
    ({"kind": "forward", "l": 2}, 3, DROPOUT, ["A_prev", "W", "b"]),
    ({"kind": "backward", "l": 2}, 3, DROPOUT, ["A_prev", "D", "W", "Z", "b", "dA"]),
    ({"kind": "backward", "l": 2}, 3, CACHES_A, ["A", "A_prev", "W", "b", "dA"]),
    ({"kind": "backward", "l": 2}, 3, FORGOTTEN, ["A_prev", "W", "Z", "b", "dA"]),
    ({"kind": "backward", "l": 2}, 3, NO_G_PRIME, ["A_prev", "W", "b", "dA"]),
    ({"kind": "cost", "l": 3}, 3, L2, ["A", "W", "Y"]),
    ({"kind": "update", "l": None}, 3, PLAIN, ["W", "b", "dW", "db"]),
]


@needs_node
def test_the_quiz_reads_the_table():
    got = call_js("quiz.js", [["readIds", p, L, c] for p, L, c, _ in READS])
    assert got == [sorted(names) for *_, names in READS]


# (what a copy of the table would restate, its pattern)
COPIES = [
    ("the dropout rule: a mask on hidden layers only", r"keep_prob\s*<\s*1\s*&&"),
    ("a phase's reads or writes", r"\b(reads|writes)\s*:\s*\["),
    ("a list of what the update or a phase of layer l touches",
     r"""set\(\s*\[\s*["'](A_prev|dW|dZ|Z)["']"""),
]


@pytest.mark.parametrize(("what", "pattern"), COPIES, ids=[w for w, _ in COPIES])
def test_only_phases_js_holds_the_table(what, pattern):
    found = [f"{path.relative_to(STATIC_JS)}:{n}" for path in sorted(STATIC_JS.rglob("*.js"))
             if path.name != "phases.js"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(pattern, line)]
    assert found == [], f"{what}, outside phases.js: {found}"


@needs_node
def test_a_fused_outputs_backward_reads_z_as_the_course_does():
    """sigmoid + BCE: the course's sigmoid_backward(dA, activation_cache) reads Z[3], so not
    picking Z is wrong; A[3] counts either way (only the shortcut dZ = A − Y reads it)."""
    config = {**PLAIN, "activations": ["relu", "relu", "sigmoid"], "loss": "binary_cross_entropy"}
    facts = {"dims": [2, 4, 4, 1], "L": 3, "m": 8, "config": config}
    [question] = call_js("quiz.js", [["readsQuestion", {"kind": "backward", "l": 3}, facts]])
    right = {o["id"]: o["right"] for o in question["options"]}
    assert right["Z"] is True and right["A"] is None and right["A_prev"] is True
    assert "reads Z[3], not A[3]" in next(o["note"] for o in question["options"] if o["id"] == "A")


@needs_node
def test_the_quiz_asks_no_relu_gate_of_the_mistake_that_has_none():
    """dZ = dA (no_activation_derivative): 'dZ must be 0 wherever …' has no answer there."""
    run = {"config": {**PLAIN, "activations": ["relu", "sigmoid"]}, "L": 2}
    backward = {"kind": "backward", "l": 1}
    mistaken = {**run, "config": {**run["config"], "bug": "no_activation_derivative"}}
    inactive = {**mistaken, "bug_active": False}
    got = call_js("quiz.js", [["questionKinds", backward, {"run": r}]
                              for r in (run, mistaken, inactive)])
    assert got == [["shape", "reads", "relu"], ["shape", "reads"], ["shape", "reads", "relu"]]



@needs_node
def test_the_quiz_says_the_mistaken_update_adds_its_step():
    config = {**PLAIN, "bug": "wrong_update_sign", "activations": ["relu", "sigmoid"],
              "loss": "binary_cross_entropy"}
    facts = {"dims": [2, 4, 1], "L": 2, "m": 8, "config": config}
    [question] = call_js("quiz.js", [["readsQuestion", {"kind": "update", "l": None}, facts]])
    note = next(o["note"] for o in question["options"] if o["id"] == "W")
    assert note == "W ← W + α·step (the mistake; the correct code subtracts it)"
