"""Tests for engine.check.sandbox and engine.check.child: the learner's code in a child
process, with a time limit and a memory limit.

One file holds a function for each way of misbehaving; one check_files call checks it (the
child is stopped and restarted where it must be), and each test reads one verdict.
Limits are small so that the suite stays fast.
"""

import io
import subprocess
import sys
import textwrap

import pytest

from engine.check import CheckerError, Limits, check_files, sandbox
from engine.check.source import Piece, Program

LIMITS = Limits(seconds=1.0, memory_mb=300)
LINUX = sys.platform.startswith("linux")

MISBEHAVING = '''
import numpy as np
import signal
import slow_module
from testCases import *

def sigmoid(Z):
    blocks = []
    while True:  # allocates without bound: 80 MB blocks, left untouched, so that the
        blocks.append(np.empty(10**7))  # limit is reached in milliseconds on a busy machine

def relu(Z):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)  # blocks the child's own alarm
    while True:
        pass

def linear_forward(A, W, b):
    while True:
        try:
            pass
        except Exception:  # cannot swallow the time limit
            pass

def relu_backward(dA, Z):
    raise ValueError("not written yet")

def compute_cost(AL, Y):
    import os
    print("x" * 10**7)  # ten megabytes, through Python's stdout
    os.write(1, b"garbage that is not JSON\\n" * 10**4)  # and straight to the file
    os.write(2, b"more garbage\\n" * 10**4)
    m = Y.shape[1]
    return np.squeeze(-1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))

def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    scratch = np.ones((50, 2**17))  # 50 MB: well inside the limit
    dW = 1 / m * np.dot(dZ, A_prev.T) + 0 * scratch[0, 0]
    return np.dot(W.T, dZ), dW, 1 / m * np.sum(dZ, axis=1, keepdims=True)

def initialize_parameters(n_x, n_h, n_y):
    import sys
    sys.exit()

def update_parameters(parameters, grads, learning_rate):
    import os
    os._exit(7)
'''


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("misbehaving")
    (folder / "slow_module.py").write_text("while True:\n    pass\n")
    (folder / "misbehaving.py").write_text(MISBEHAVING)
    [checked] = check_files([folder / "misbehaving.py"], limits=LIMITS)
    return checked


def row(report, name):
    return next(f for f in report["functions"] if f["name"] == name)


@pytest.mark.parametrize(("name", "status", "detail"), [
    ("linear_forward", "error", "ran longer than 1 s and was stopped"),
    ("relu", "error", "ran longer than 1 s and was stopped"),
    ("relu_backward", "error", "raised ValueError: not written yet (line 25: raise "
                               'ValueError("not written yet")), in the course\'s test case'),
    ("update_parameters", "error", "ended the check process (exit status 7)"),
    ("initialize_parameters", "error", "raised SystemExit"),
    ("compute_cost", "pass", "matches the course on 3 cases"),
    ("linear_backward", "pass", "matches the course on 4 cases"),
    ("linear_activation_forward", "missing", "not defined"),
])
def test_each_misbehaviour_gets_a_clear_verdict(report, name, status, detail):
    assert row(report, name)["status"] == status
    assert row(report, name)["detail"].startswith(detail)


@pytest.mark.skipif(not LINUX, reason="the address-space limit is Linux's")
def test_an_allocation_without_bound_runs_out_of_memory(report):
    assert row(report, "sigmoid")["status"] == "error"
    assert row(report, "sigmoid")["detail"].startswith("raised MemoryError")
    assert report["first_failure"]["hint"] == ("It ran out of memory: does a loop keep growing "
                                               "a list or an array?")


def test_a_hanging_import_and_a_failing_one_are_skipped_with_a_note(report):
    assert report["notes"][:2] == [
        "skipped `import slow_module`: it ran longer than 1 s",
        "skipped `from testCases import *`: ModuleNotFoundError: No module named 'testCases'"]


def test_the_report_of_a_misbehaving_file_is_complete(report):
    assert [f["name"] for f in report["functions"]][:2] == ["sigmoid", "relu"]
    assert len(report["functions"]) == 14
    assert report.exit_status == 1


# -- the parent's side, without the learner ------------------------------------------------


def silent_child(code):
    """A start_child that runs this Python code instead of the checker's child."""
    def start(errors):
        return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=errors, text=True)
    return start


def test_a_child_that_cannot_start_is_the_checkers_error(monkeypatch):
    monkeypatch.setattr(sandbox, "start_child", silent_child(
        "import sys; print('no engine here', file=sys.stderr); sys.exit(3)"))
    program = Program("x.py", ".", (), ())
    said = r"child process ended \(exit status 3\); it said: no engine here"
    with pytest.raises(CheckerError, match=said):
        sandbox.check_programs([program], LIMITS)


def test_a_piece_that_stops_the_child_is_skipped_and_noted():
    program = Program("x.py", ".", (Piece("import", "import stuck", "", "x.py"),), ())
    progress = [sandbox.Progress(program)]
    sandbox.interrupted(("piece", 0, 0), progress, "time", LIMITS, io.BytesIO())
    assert progress[0].skipped == {0}
    assert progress[0].notes == ["skipped `import stuck`: it ran longer than 1 s and was stopped"]
    assert progress[0].task(0)["pieces"] == []


def test_the_child_gets_one_blas_thread_and_finds_the_engine():
    env = sandbox.child_env()
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    code = textwrap.dedent("""
        import engine.check.child, os
        print(os.environ["OMP_NUM_THREADS"])""")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, cwd="/", timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
