"""The course functions that `check` knows: their order, calls, results, lens views and
reference code (engine.course).

One row per function of the classic step-by-step exercise, in the order a learner
writes them (CONTRACT §8). The names of what a function returns and of its parameters
give `what` its words: ("return", 1, 0) of linear_forward is "cache[0]", the A_prev
of its linear_cache.
"""

from typing import NamedTuple

from engine import course


class LensView(NamedTuple):
    """Where the page shows a function's work (engine.check.lens makes the link): the
    phase ("forward", "backward", "cost" or "update") and its layer, which is "hidden"
    (layer 1), "output" (layer L), "named" (the layer `what` names, else L) or
    "activation" (the failing case's: relu is a hidden layer's, sigmoid the output's)."""

    phase: str
    layer: str
    config: tuple[tuple[str, str], ...] = ()  # config fields the view needs, (name, value)


class CourseFunction(NamedTuple):
    name: str
    params: tuple[str, ...]
    outputs: tuple[str, ...]  # names of the returned values; one name: a single value
    lens: LensView
    draws: bool = False  # draws random numbers: compared after np.random.seed(3)
    may_change_inputs: bool = False  # the course's own update_parameters updates in place


COURSE_INIT = (("init", "course"),)  # the page's default run uses He's init

FUNCTIONS = (
    CourseFunction("sigmoid", ("Z",), ("A", "cache"), LensView("forward", "output")),
    CourseFunction("relu", ("Z",), ("A", "cache"), LensView("forward", "hidden")),
    CourseFunction("sigmoid_backward", ("dA", "Z"), ("dZ",), LensView("backward", "output")),
    CourseFunction("relu_backward", ("dA", "Z"), ("dZ",), LensView("backward", "hidden")),
    CourseFunction("initialize_parameters", ("n_x", "n_h", "n_y"), ("parameters",),
                   LensView("forward", "named", COURSE_INIT), draws=True),
    CourseFunction("initialize_parameters_deep", ("layer_dims",), ("parameters",),
                   LensView("forward", "named", COURSE_INIT), draws=True),
    CourseFunction("linear_forward", ("A", "W", "b"), ("Z", "cache"),
                   LensView("forward", "hidden")),
    CourseFunction("linear_activation_forward", ("A_prev", "W", "b", "activation"),
                   ("A", "cache"), LensView("forward", "activation")),
    CourseFunction("L_model_forward", ("X", "parameters"), ("AL", "caches"),
                   LensView("forward", "named")),
    CourseFunction("compute_cost", ("AL", "Y"), ("cost",), LensView("cost", "output")),
    CourseFunction("linear_backward", ("dZ", "cache"), ("dA_prev", "dW", "db"),
                   LensView("backward", "hidden")),
    CourseFunction("linear_activation_backward", ("dA", "cache", "activation"),
                   ("dA_prev", "dW", "db"), LensView("backward", "activation")),
    CourseFunction("L_model_backward", ("AL", "Y", "caches"), ("grads",),
                   LensView("backward", "named")),
    CourseFunction("update_parameters", ("parameters", "grads", "learning_rate"),
                   ("parameters",), LensView("update", "named"), may_change_inputs=True),
)
BY_NAME = {f.name: f for f in FUNCTIONS}
NAMES = tuple(BY_NAME)
HELPERS = ("sigmoid", "relu", "sigmoid_backward", "relu_backward")  # the course's dnn_utils


def in_backward_order(L_model_backward):
    """The reference's grads, keys in the order backward computes them: layer L's dA[L-1],
    dW[L], db[L] first. The first difference found is then the first one made."""
    def ordered(AL, Y, caches):
        grads = L_model_backward(AL, Y, caches)
        return {k: grads[k] for l in range(len(caches), 0, -1)
                for k in (f"dA{l - 1}", f"dW{l}", f"db{l}")}
    return ordered


REFERENCE = {name: getattr(course, name) for name in NAMES}
REFERENCE["L_model_backward"] = in_backward_order(course.L_model_backward)

# what sits where in a cache, by its path inside it
LINEAR_CACHE = {(): "linear_cache", (0,): "A_prev", (1,): "W", (2,): "b"}
LAYER_CACHE = {(): "cache = (linear_cache, activation_cache)", (0,): "linear_cache",
               (0, 0): "A_prev in linear_cache", (0, 1): "W in linear_cache",
               (0, 2): "b in linear_cache", (1,): "activation_cache, which is Z"}
ACTIVATION_CACHE = {(): "activation_cache, which is Z"}
# (function, name of a result or parameter) -> its table; "caches" is a list of layer caches
CACHE_KINDS = {
    ("sigmoid", "cache"): ACTIVATION_CACHE, ("relu", "cache"): ACTIVATION_CACHE,
    ("linear_forward", "cache"): LINEAR_CACHE, ("linear_backward", "cache"): LINEAR_CACHE,
    ("linear_activation_forward", "cache"): LAYER_CACHE,
    ("linear_activation_backward", "cache"): LAYER_CACHE,
}


def index_text(keys) -> str:
    """[0][1] for indices, ["dW2"] for dict keys."""
    return "".join(f'["{k}"]' if isinstance(k, str) else f"[{k}]" for k in keys)


def split_path(spec: CourseFunction, path: tuple) -> tuple[str, tuple, bool]:
    """(the result's or parameter's name, the keys inside it, is it an input) of a path
    ("return", i, ...) or ("input", i, ...); ("return",) of a tuple result is "return"."""
    root, rest = path[0], path[1:]
    if root == "input":
        return spec.params[rest[0]], rest[1:], True
    if len(spec.outputs) == 1:
        return spec.outputs[0], rest, False
    if not rest:
        return "return", (), False
    return spec.outputs[rest[0]], rest[1:], False


def what(spec: CourseFunction, path: tuple) -> str:
    """`what` differs, in the course's words: cache[0][1], grads["dW2"], input dA."""
    name, keys, is_input = split_path(spec, path)
    return f"{'input ' if is_input else ''}{name}{index_text(keys)}"


def meaning(spec: CourseFunction, path: tuple) -> str | None:
    """What sits at that place of a cache, if it is one: "A_prev in linear_cache"."""
    name, keys, _ = split_path(spec, path)
    if name == "caches" and keys and isinstance(keys[0], int):
        inside = LAYER_CACHE.get(tuple(keys[1:]))
        return f"layer {keys[0] + 1}'s {inside}" if inside else None
    return CACHE_KINDS.get((spec.name, name), {}).get(tuple(keys))


def layer_named(spec: CourseFunction, path: tuple) -> int | None:
    """The layer a path points at, if it names one: grads["dW2"] -> 2, caches[0] -> 1."""
    name, keys, _ = split_path(spec, path)
    if not keys:
        return None
    if name == "caches" and isinstance(keys[0], int):
        return keys[0] + 1
    digits = "".join(c for c in str(keys[0]) if c.isdigit())
    if name in ("grads", "parameters") and digits:
        # dA{l-1} is what layer l's backward writes
        return int(digits) + (1 if str(keys[0]).startswith("dA") else 0)
    return None


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions from a to b."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        diagonal, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ca != cb))
    return row[-1]


def probable_misspellings(defined) -> list[tuple[str, str]]:
    """(yours, the course's) for each defined name one or two letters away from a course
    function's name that is not defined (one letter for names under six letters)."""
    defined = set(defined)
    found = []
    for course_name in NAMES:
        if course_name in defined:
            continue
        reach = 2 if len(course_name) >= 6 else 1
        for name in sorted(defined - set(NAMES)):
            if edit_distance(name.lower(), course_name.lower()) <= reach:
                found.append((name, course_name))
    return found
