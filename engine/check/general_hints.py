"""Hints for mistakes that no mutation of the course's code makes (engine.check.mistake_hints
runs those): results returned in another order, a list default that every call grows,
an argument changed in place, nothing returned, a template left as it was, and the
exceptions whose cause is plain from the exception itself."""

import inspect
import math
import re
from typing import NamedTuple

import numpy as np

from engine.check.compare import Difference, first_difference
from engine.check.course_functions import BY_NAME, split_path, what
from engine.check.observe import Observation, shortened, value_at


class OutOfOrder(NamedTuple):
    """Results that are the course's, returned in another order, as failed() names it."""

    hint: str
    name: str = "returned_out_of_order"


def out_of_order(spec, expected: Observation, got: Observation) -> OutOfOrder | None:
    """The mistake of returning the right values in another order (dW, db, dA_prev), if the
    function returns several and each of the learner's is one of the course's."""
    ours, theirs = expected.returned, got.returned
    if len(spec.outputs) < 2 or not isinstance(theirs, tuple | list) or \
            len(theirs) != len(ours):
        return None
    order = []
    for value in theirs:
        match = [k for k, o in enumerate(ours) if k not in order
                 and first_difference(o, value) is None]
        if not match:
            return None
        order.append(match[0])
    if order == sorted(order):  # in the course's order: what differs is elsewhere
        return None
    names = [spec.outputs[k] for k in order]
    return OutOfOrder(f"Your {spec.name} returns the right values in another order: "
                      f"{', '.join(names)}. The course returns {', '.join(spec.outputs)}, "
                      "in that order." + UNPACKED.get(spec.name, ""))


# where a function's values come in another order from a call's results unpacked in
# another order, with its own return line right: the same results, the other line to read
UNPACKED = {"linear_activation_backward": " If your return line has that order, the line "
            "that takes linear_backward's results has not: dA_prev, dW, db = "
            "linear_backward(dZ, linear_cache)."}


class SinglePrecision(NamedTuple):
    """Values computed in float32, as failed() names them."""

    hint: str
    name: str = "single_precision"


# float32 keeps about 7 significant digits (a rounding is up to 6e-8 relative; a few
# operations add up to a few 1e-7): values that agree this far, and no further than the
# check's 1e-7, are float32's
FLOAT32_AGREEMENT = 1e-5


def single_precision(spec, found: Difference, expected: Observation, got: Observation
                     ) -> SinglePrecision | None:
    """Numbers that agree with the course's to 5 to 7 digits: float32 numbers (their dtype,
    or float64 values that float32 holds exactly) were computed in float32; float64 ones
    were rounded on the way (a float32 step, an epsilon, a constant typed short)."""
    if found.kind != "values":
        return None
    ours, theirs = value_at(expected, found.path), value_at(got, found.path)
    if not isinstance(theirs, np.ndarray | np.floating) or \
            not isinstance(ours, np.ndarray | np.floating | float):
        return None
    theirs, ours = np.asarray(theirs), np.asarray(ours, dtype=float)
    if theirs.dtype not in (np.float32, np.float64) or theirs.shape != ours.shape or \
            not np.allclose(theirs, ours, rtol=FLOAT32_AGREEMENT, atol=0):
        return None
    agrees = (f"Your {what(spec, found.path)} agrees with the course's to about 7 digits, "
              "then differs")
    if theirs.dtype == np.float32 or np.array_equal(theirs.astype(np.float32), theirs):
        return SinglePrecision(f"{agrees}: float32's precision. Somewhere your code computes "
                               "in float32 (.astype(np.float32), dtype=np.float32); keep "
                               "NumPy's float64.")
    # float64 numbers, rounded on the way: an input made float32 (NumPy then went back to
    # float64 with a float64 operand), or a small constant such as AL + 1e-8
    return SinglePrecision(f"{agrees}: something rounds on the way. A float32 step "
                           "(.astype(np.float32)), a small constant added (an epsilon such as "
                           "1e-8) or a constant typed short (2.71828 for np.e) would; the "
                           "course's code has none of them.")


class OtherStepSize(NamedTuple):
    """An update whose step is another multiple of the gradient than the learning rate it is
    given (a rate set inside the function), as failed() names it."""

    hint: str
    name: str = "other_step_size"


def other_step_size(spec, case, got: Observation) -> OtherStepSize | None:
    """update_parameters that moved W1 by c·dW1 with one c > 0 for every entry, where c is
    not the learning_rate it was given (the case's arguments, made again): `learning_rate =
    0.0075` inside the function, say. None otherwise (W - dW, W + α dW: the mutations')."""
    if spec.name != "update_parameters" or not isinstance(got.returned, dict):
        return None
    parameters, grads, learning_rate = case.make()
    W, dW, new = parameters.get("W1"), grads.get("dW1"), got.returned.get("W1")
    if not all(isinstance(x, np.ndarray) for x in (W, dW, new)) or new.shape != W.shape:
        return None
    moved = dW != 0
    if not moved.any():
        return None
    rates = (W - new)[moved] / dW[moved]
    rate = float(rates[0])
    if not (rate > 0 and np.allclose(rates, rate, rtol=1e-9, atol=0)) or \
            math.isclose(rate, learning_rate, rel_tol=1e-9):
        return None
    return OtherStepSize(f"Your update_parameters moves W1 by {rate:.6g} × dW1, where the "
                         f"learning_rate it is given is {learning_rate:g}: each W[l] takes one "
                         "step, W[l] - learning_rate * dW[l] (a rate set or scaled inside the "
                         "function, or a layer updated twice, takes another).")


class SharedDefault(NamedTuple):
    """A default argument that is a list, a dict or a set, as failed() names it: Python makes
    it once, when the def runs, and every call that changes it changes the same object."""

    hint: str
    name: str = "shared_default"


def shared_default(function) -> SharedDefault | None:
    """The mistake of a mutable default argument (`caches=[]`), if the function has one."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    shared = [p for p in parameters if isinstance(p.default, list | dict | set)]
    if not shared:
        return None
    default = shared[0].default
    name = shared[0].name
    empty = "[]" if isinstance(default, list) else "{}" if isinstance(default, dict) else "set()"
    return SharedDefault(
        f"Your {function.__name__} has a default argument {name}={empty}: Python makes that "
        "object once, when the def runs, so every call adds to the same one, and the second "
        f"call's {name} holds the first call's too. Make a new one inside the function "
        f"({name} = {empty} on its first line).")


def general_hint(spec, found: Difference) -> str | None:
    """A hint where no known mistake matched, for shapes of mistake that any function can
    make: changing an argument in place, returning nothing, or other than the course's
    number of values, and leaving a template's None."""
    name, keys, is_input = split_path(spec, found.path)
    if is_input and not keys and name == "caches":
        return (f"Your {spec.name} changed caches itself (popped, reversed or emptied it), and "
                "that list is the caller's, who may need it again. Read caches[l - 1] instead, "
                "or work on a copy: caches = list(caches).")
    if is_input and not keys and name in ("parameters", "grads"):
        return (f"Your {spec.name} changed the dict {name} itself (added, removed or replaced "
                "its entries), and that dict is the caller's, who reads it again. Keep your "
                f"own values in local variables or a new dict, or work on a copy: {name} = "
                f"dict({name}).")
    if is_input:
        copy = f" ({name} = np.array({name}, copy=True))" if not keys else ""
        return (f"Your {spec.name} changed {what(spec, found.path)} in place, and that array "
                "is the caller's: an in-place operation (/=, *=, +=) or an assignment into it "
                "([…] = …) writes into the caller's data. Compute a new array instead, or copy "
                f"it first{copy}.")
    outputs = ", ".join(spec.outputs)
    if found.matrix:
        return (f"Your {spec.name} gives {what(spec, found.path)} as an np.matrix: there * is "
                "a matrix product and every row stays 2-D, so the course's next functions "
                "break on it. Keep plain arrays: np.dot(W, A) + b, or W @ A + b.")
    if found.path == ("return",) and len(spec.outputs) == 1 and \
            found.got.startswith("a tuple of 1"):
        return (f"Your {spec.name} returns a tuple of 1: a comma after the value "
                f"(return {outputs},) makes a tuple. return {outputs}, without it.")
    if found.path == ("return",) and len(spec.outputs) == 1 and \
            found.got.startswith(("a tuple of", "a list of")):
        return (f"Your {spec.name} returns {kind_of(found.got)}; the course's returns "
                f"{outputs} alone: return {outputs}.")
    if spec.name == "compute_cost" and found.kind == "shape":
        return ("compute_cost returns one number, the mean over all m examples: is every term "
                "inside np.sum (check the parentheses), and does the sum take every entry, "
                "not one axis?")
    missing = [str(k) for k in found.missing]
    if spec.name == "L_model_backward" and missing and all(k.startswith("dA") for k in missing):
        return (f"grads holds each layer's dA_prev too ({', '.join(missing)} missing), as the "
                'course\'s: grads["dA" + str(l)] = dA_prev_temp, beside dW and db.')
    if found.extra and not found.missing:
        return (f"Your {spec.name}'s {what(spec, found.path)} holds keys that the course's "
                f"does not ({', '.join(map(str, found.extra))}). Keep only the course's keys: "
                "code that counts them (L = len(parameters) // 2) or loops over them takes "
                "the others too.")
    if found.path == ("return",) and found.got == "None":
        return (f"Your {spec.name} returns None: it has no return statement, one without a "
                "value, or one that this call does not reach (in an if branch that it did not "
                f"take). End it with return {outputs}.")
    if found.path == ("return",) and len(spec.outputs) > 1:
        return (f"Your {spec.name} returns {kind_of(found.got)}; the course's returns "
                f"{len(spec.outputs)} values: return {outputs}.")
    if found.got == "None":
        return (f"Your {spec.name} gives {what(spec, found.path)} = None: is the template's "
                "placeholder (… = None) still there? Compute it in its place.")
    return None


def kind_of(described: str) -> str:
    """"a tuple of 4" of a described value ("a tuple of 4: (...)"); a value described
    otherwise (a string's repr, which may hold a colon) as it is, shortened."""
    kind = re.match(r"(an? [^:]*)(?::|$)", described)
    return kind.group(1) if kind else shortened(described)[:60]


# a list's methods that change it: a tuple has none of them
LIST_CHANGES = {"pop", "reverse", "append", "extend", "insert", "remove", "sort", "clear"}


# the course functions whose branches are the activation's: an if/elif on its name
BRANCHING = {"linear_activation_forward", "linear_activation_backward"}
UNBOUND = re.compile(r"local variable '(\w+)'")


def unbound_hint(err: UnboundLocalError, function: str) -> str:
    """A variable read before any line set it: in the activation's branches, most often a
    name the course does not pass; elsewhere, the variable, named."""
    if function in BRANCHING:
        return ("A variable was used before any line set it: most often an if and elif "
                'whose conditions were all false. The course passes activation="relu" or '
                '"sigmoid", in lower case: compare with exactly those.')
    found = UNBOUND.search(str(err))
    name = f"'{found.group(1)}'" if found else "a variable"
    return (f"{name} is read before any line of your {function} set it: set it first (A = X "
            "before the loop, say), or check the if that should have set it.")


def error_hint(err: BaseException, function: str) -> str | None:
    if isinstance(err, MemoryError):
        return "It ran out of memory: does a loop keep growing a list or an array?"
    if isinstance(err, NameError) and getattr(err, "name", None) == "np":
        return "Add `import numpy as np` above your functions."
    if isinstance(err, SystemExit):
        return "Your function ends the program (exit()); return its results instead."
    if isinstance(err, NotImplementedError):
        return ("This function still raises the template's NotImplementedError: write its "
                "body in place of that line.")
    if isinstance(err, UnboundLocalError):
        return unbound_hint(err, function)
    spec = BY_NAME.get(function)
    if isinstance(err, NameError) and spec and getattr(err, "name", None) in spec.params:
        return (f"Your {function} reads {err.name}, which nothing in it defines: does its "
                f"signature name it otherwise? The course's is {function}"
                f"({', '.join(spec.params)}).")
    if isinstance(err, AttributeError) and getattr(err, "name", None) in LIST_CHANGES \
            and isinstance(getattr(err, "obj", None), tuple):
        return (f"A tuple cannot be changed, and your function calls .{err.name}() on one (the "
                "course's test cases pass caches, and each cache, as tuples). Leave it as it "
                "is and read its items by index instead: caches[l - 1].")
    try:
        said = str(err)
    except (Exception, SystemExit):  # a learner's exception whose __str__ raises
        said = ""
    if isinstance(err, TypeError) and said.startswith(("only 0-dimensional arrays", "only length-1",
                                                        "only size-1")):
        return ("A function of Python's math module (math.exp, math.log, math.sqrt) takes one "
                "number, not an array: use NumPy's, np.exp(Z), which works entry by entry.")
    if isinstance(err, ValueError) and said.startswith("The truth value of an array"):
        return ("Python's max(0, Z), `if Z > 0:` and `and`/`or` ask one yes or no of a whole "
                "array: work entry by entry, with np.maximum(0, Z) or a mask such as Z > 0.")
    unknown = "activation: unknown name "  # engine.activations, under the course's functions
    if isinstance(err, ValueError) and said.startswith(unknown):
        name = said.removeprefix(unknown).split(";")[0]
        return (f'The course\'s activations are "relu" and "sigmoid", in lower case; {name} is '
                "not one of them.")
    return None
