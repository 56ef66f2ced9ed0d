"""What the tests of engine.check.forward_mistakes and backward_mistakes share: the
mutations a module defines, the course function each breaks, and the checks that each
mutation is a Mistake and that a helper without its mistake is the reference."""

import inspect

from engine import course
from engine.check.cases import CASES
from engine.check.course_functions import BY_NAME, REFERENCE
from engine.check.mistake_hints import MISTAKES
from engine.check.observe import difference, observe


def mutations(module, factories):
    """The module's public functions, but the factories that make mutations of others."""
    return {name: f for name, f in vars(module).items()
            if inspect.isfunction(f) and f.__module__ == module.__name__
            and not name.startswith("_") and name not in factories}


def broken_function(code):
    """The course function the mutation breaks (MISTAKES says), or None if no Mistake uses it."""
    return next((m.function for m in MISTAKES if m.code is code), None)


def parameters(f):
    return list(inspect.signature(f).parameters)


def course_parameters(name):
    return parameters(getattr(course, name))


def assert_a_mistake_with_the_signature_it_breaks(name, mutation):
    """The mutation is a Mistake of engine.check.mistake_hints (so it has a hint), and takes
    the parameters of the course function it breaks."""
    broken = broken_function(mutation)
    assert broken is not None, f"{name} is no Mistake of engine.check.mistake_hints"
    assert parameters(mutation) == course_parameters(broken)


def assert_the_reference(name, helper):
    """helper, without its mistake, gives what the course's `name` gives on every case."""
    spec = BY_NAME[name]
    for case in CASES[name]:
        assert difference(observe(REFERENCE[name], spec, case),
                          observe(helper, spec, case)) is None, case.label
