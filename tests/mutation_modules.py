"""What the tests of engine.check.forward_mistakes and backward_mistakes share: the
mutations a module defines, and the course function each breaks."""

import inspect

from engine import course
from engine.check.mistake_hints import MISTAKES


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
