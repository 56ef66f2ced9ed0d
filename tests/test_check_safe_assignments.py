"""engine.check.safe_assignments: the top-level assignments and classes of a learner's file
that the check runs compute what they bind from what is there; none runs the learner's
code, reads or writes a file, or trains (a learner's audit: a computed constant had been
refused, so that five correct files failed; a review: `min(rates, key=train)` then ran)."""

import ast

import pytest

from engine.check.safe_assignments import CONSTANT, FUNCTION, computed_names, safe_class

KNOWN = {"np": "numpy", "functools": "functools", "namedtuple": "collections.namedtuple",
         "ld": "numpy.load", "dataclass": "dataclasses.dataclass", "relu": CONSTANT,
         "train": FUNCTION, "rates": CONSTANT, "arr": CONSTANT}


def names_of(line):
    [node] = ast.parse(line).body
    return computed_names(node, KNOWN)


@pytest.mark.parametrize(("line", "names"), [
    ("EPS = np.finfo(np.float64).eps", ["EPS"]),
    ("Cache = namedtuple('Cache', 'A W b')", ["Cache"]),
    ("FORWARD = {'relu': relu}", ["FORWARD"]),
    ("ACT = dict(relu=relu, train=train)", ["ACT"]),  # kept by dict, never called
    ("step = functools.partial(train, 0.1)", ["step"]),
    ("KEYS = sorted(['W2', 'W10'], key=len)", ["KEYS"]),
    ("a, b = np.zeros((2, 1)), len(rates)", ["a", "b"]),
    ("SQUARES = [k * k for k in range(4)]", ["SQUARES"]),
])
def test_a_value_from_what_is_there_is_computed(line, names):
    assert names_of(line) == names


@pytest.mark.parametrize("line", [
    "best = min(rates, key=lambda lr: train(lr))",  # a lambda handed to a call runs
    "best = min(rates, key=train)",  # and so does the learner's own function
    "total = functools.reduce(train, rates)",
    "model = train(0.1)",
    "d = ld('x.npy')",  # numpy.load behind another name reads a file
    "d = np.load('x.npy')",
    "m = np.lib.format.open_memmap('f.npy', mode='w+', shape=(2,))",
    "np_dump = np.ndarray.dump(arr, 'f')",
    "lib = np.ctypeslib.load_library('x', '.')",
    "X = train_x_flatten / 255",  # a name not bound: it would only fail
    "A = np.zeros(3).reshape(3, 1)",  # a method of anything
    "n = open('f').read()",
    "sigmoid = np.vectorize(lambda z: z)",  # a course function's name: noted, not run
    "x.y = 3",
])
def test_a_value_that_could_run_the_learners_code_or_a_file_is_not(line):
    assert names_of(line) == []


@pytest.mark.parametrize(("source", "safe"), [
    ("class Cache(NamedTuple):\n    A: object\n    W: object = None", True),
    ("@dataclass(frozen=True)\nclass Layer:\n    n: int = 3\n    def size(self):\n"
     "        return self.n", True),
    ("class Backward:\n    '''doc'''\n    @staticmethod\n    def linear_backward(dZ, cache):\n"
     "        return dZ", True),
    ("class Experiment:\n    open('X', 'w').write('x')", False),  # a body runs when made
    ("class K:\n    data = train(1)", False),
    ("class K(Base):\n    pass", False),  # a base the check did not bind
    ("@train\nclass K:\n    pass", False),  # a decorator is called with the class
    ("class K:\n    @train\n    def f(self):\n        pass", False),
    ("class K:\n    @functools.lru_cache(maxsize=None)\n    def f(self):\n        pass", True),
])
def test_a_class_is_defined_only_if_its_body_runs_nothing(source, safe):
    [node] = ast.parse(source).body
    known = {**KNOWN, "NamedTuple": "typing.NamedTuple"}
    assert safe_class(node, known) is safe
