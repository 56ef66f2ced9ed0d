"""The link at the end of a report: the lens's view of what differs.

The page's URL holds a run config, an iteration, a phase and a layer (static/js/state.js).
A whole-net function's failing case is a net of its own (the course's L_model_backward case
has 2 layers), so the link asks for a run with that case's hidden layers, and the layer
that `what` names (grads["dA1"]: layer 2) is a layer of that run. A one-layer function's
view is a hidden layer (1) or the output layer (L = 3) of the page's default run, and so is
a net deeper than a run may be. A
recognised mistake may name its own view: a wrong dAL shows at the output layer's backward.
"""

from urllib.parse import urlencode

from engine.check.cases import CASES
from engine.check.course_functions import BY_NAME
from engine.check.mistake_hints import MISTAKES
from engine.config import MAX_HIDDEN_LAYERS

DEFAULT_LAYERS = 3  # L of the page's default run: hidden layers [8, 8]
# a recognised mistake's name -> {"lesson": id, "bug": the §7 bug whose run shows what the
# mistake does to training}; the link is then the lesson's own, ?lesson=<id>, which opens
# its run (a config with that bug) and its view: a link with the whole view of its own
# (it=, phase=, layer=) is taken as a page the page wrote, and would run the default config
# beside the lesson's words about another. The lessons are app/lessons/*.json (the engine names
# them only: tests/test_check_lens.py checks that each exists, with that bug)
_MISSING_1_OVER_M = {"lesson": "bug-missing-1-over-m", "bug": "missing_1_over_m"}
_CACHE_HOLDS_A = {"lesson": "bug-activation-cache-holds-a", "bug": "activation_cache_holds_A"}
LESSONS: dict[str, dict[str, str]] = {
    **{name: _MISSING_1_OVER_M for name in (
        "dW_without_1_over_m", "db_without_1_over_m", "dW_db_without_1_over_m",
        "layer_dW_without_1_over_m", "layer_db_without_1_over_m",
        "layer_dW_db_without_1_over_m")},
    # relu'(A) = relu'(Z): the lesson says why a relu layer hides this one
    **{name: _CACHE_HOLDS_A for name in (
        "activation_cache_holds_A", "sigmoid_caches_A", "relu_caches_A")},
    "layer_without_activation_derivative": {"lesson": "bug-no-activation-derivative",
                                            "bug": "no_activation_derivative"},
    "update_adds": {"lesson": "bug-wrong-update-sign", "bug": "wrong_update_sign"},
}
BY_MISTAKE = {(m.function, m.name): m for m in MISTAKES}


def layer_of(kind: str, named: int | None, activation: str | None, L: int) -> int:
    """The layer of a view (LensView.layer's kinds) in a run of L layers."""
    if kind == "named" and named and 1 <= named <= L:
        return named
    if kind == "hidden" or (kind == "activation" and activation == "relu"):
        return 1
    return L


def lens_query(failure) -> dict:
    """The page's URL state for a failure: config fields, then it, phase and layer; or the
    lesson that shows the mistake, alone."""
    if failure.mistake in LESSONS:
        return {"lesson": LESSONS[failure.mistake]["lesson"]}
    spec = BY_NAME[failure.function]
    case = next((c for c in CASES[spec.name] if c.label == failure.case), None)
    mistake = BY_MISTAKE.get((spec.name, failure.mistake))
    view = mistake.lens if mistake and mistake.lens else spec.lens
    hidden = case.hidden if case else None
    if hidden is not None and len(hidden) > MAX_HIDDEN_LAYERS:  # no run has that net
        hidden = None
    L = DEFAULT_LAYERS if hidden is None else len(hidden) + 1
    layer = layer_of(view.layer, failure.layer, case.activation if case else None, L)
    phase = f"{view.phase}-{layer}" if view.phase in ("forward", "backward") else view.phase
    config = dict(view.config)
    if hidden is not None:
        config["hidden_layers"] = ",".join(map(str, hidden))
    return {**config, "it": 0, "phase": phase, "layer": layer,
            **LESSONS.get(failure.mistake or "", {})}


def lens_link(url: str, failure) -> str:
    """The link to the view of a failure; the page's default view without one."""
    if failure is None or failure.function is None:
        return f"{url.rstrip('/')}/"
    # commas read better than %2C in a link, and the page reads both
    return f"{url.rstrip('/')}/?{urlencode(lens_query(failure), safe=',')}"
