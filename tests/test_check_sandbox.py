"""Tests for engine.check.sandbox and engine.check.child: the learner's code in a child
process, with a time limit and a memory limit.

One file holds a function for each way of misbehaving; one check_files call checks it (the
child is stopped and restarted where it must be), and each test reads one verdict.
Limits are small so that the suite stays fast.
"""

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from engine.check import CheckerError, Limits, check_files, sandbox
from engine.check.source import Program
from engine.check.statements import Piece

# 2 s: a function that passes takes milliseconds alone, but over 1 s once on a 2-core
# machine busy with the browser suite (CI's two workers) and more
LIMITS = Limits(seconds=2.0, memory_mb=300)
SOLUTION = Path(__file__).resolve().parent / "check_solutions" / "solution.py"
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

def sigmoid_backward(dA, Z):
    import os
    forged = b'{"event": "result", "program": 0, "result": {"name": "sigmoid_backward", '
    forged += b'"status": "pass", "detail": "forged", "failure": null}}'
    for fd in range(3, 30):  # the child's channel is one of these
        try:
            os.write(fd, b"hello from the learner\\n" + forged + b"\\n")
        except OSError:
            pass
    return dA  # wrong, and the forged pass must not hide it

def L_model_backward(AL, Y, caches):
    import os
    os.closerange(3, 1000)  # the child's channel with the rest
    return {}
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
    ("linear_forward", "error", "ran longer than 2 s and was stopped"),
    ("relu", "error", "ran longer than 2 s and was stopped"),
    ("sigmoid_backward", "error", "wrote to a file descriptor it did not open (the check's "
                                  "own channel): 'hello from the learner'"),
    ("L_model_backward", "error", "closed the check's own channel, a file descriptor it did "
                                  "not open"),
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
        "skipped `import slow_module`: it ran longer than 2 s and was stopped",
        "skipped `from testCases import *`: ModuleNotFoundError: No module named 'testCases'"]


def test_a_timeout_reads_the_same_whichever_process_stops_it(report):
    """linear_forward's loop is stopped by the child's alarm; relu blocks the alarm and is
    stopped by the parent."""
    by_name = {r.name: r for r in report.results}
    child, parent = by_name["linear_forward"], by_name["relu"]
    assert parent == child._replace(name="relu", failure=child.failure._replace(function="relu"))


def test_the_report_of_a_misbehaving_file_is_complete(report):
    assert [f["name"] for f in report["functions"]][:2] == ["sigmoid", "relu"]
    assert len(report["functions"]) == 14
    assert report.exit_status == 1


LOUD = '''
import numpy as np

def compute_cost(AL, Y):
    raise ValueError("y" * 5_000_000)

def relu_backward(dA, Z):
    class Odd(Exception):
        def __str__(self):
            raise RuntimeError("no words")
    raise Odd()

def sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z
'''


@pytest.fixture(scope="module")
def loud(tmp_path_factory):
    path = tmp_path_factory.mktemp("loud") / "loud.py"
    path.write_text(LOUD)
    [checked] = check_files([path], limits=LIMITS)
    return checked


def test_a_long_message_is_quoted_short(loud):
    """An exception's message of five million characters (its result's line once crossed
    the channel's 1 MiB cut, and the check ended in a KeyError) is quoted in 300."""
    cost = row(loud, "compute_cost")
    assert cost["status"] == "error"
    assert cost["detail"].startswith("raised ValueError: " + "y" * 300 + "… (4,999,700 more "
                                     "characters) (line 5: raise ValueError(")
    assert len(json.dumps(loud.to_json())) + len(str(loud)) < 20_000
    assert row(loud, "sigmoid")["status"] == "pass"


def test_an_exception_whose_words_raise_is_still_named(loud):
    assert row(loud, "relu_backward")["detail"].startswith(
        "raised Odd: (its message could not be read) (line 11: raise Odd())")


def test_a_result_the_parent_cannot_read_is_an_error():
    """A result's line longer than the parent reads whole is cut, and lost: when the next
    event comes, that function is an error, not one to check again."""
    program = Program("x.py", ".", (), ())
    progress = [sandbox.Progress(program)]
    sandbox.result_lost(("function", 0, "relu"), progress)
    got = progress[0].results["relu"]
    assert (got.status, got.detail) == (
        "error", "its check's result could not be read: more than 1 MiB of text")
    assert "relu" not in progress[0].remaining()


def test_a_cut_result_line_ends_as_that_error(monkeypatch):
    """The wiring: a child whose result line (3 MB) runs past LONGEST_LINE (1 MiB), then
    ends."""
    monkeypatch.setattr(sandbox, "start_child", silent_child("""
import json, sys
token = json.load(sys.stdin)["token"]
def send(**event):
    print(token, json.dumps(event), flush=True)
send(event="ready", mapped=None, limit=None)
send(event="loaded", program=0, notes=[], defined=["relu"])
send(event="start", program=0, function="relu")
print(token, json.dumps({"event": "result", "said": "y" * 3_000_000}), flush=True)
send(event="end")
"""))
    program = Program("x.py", ".", (), ())
    progress = [sandbox.Progress(program)]
    sandbox.run_child([progress[0].task(0)], LIMITS, progress)
    assert progress[0].results["relu"].detail.startswith("its check's result could not be read")


# -- the parent's side, without the learner ------------------------------------------------


def silent_child(code):
    """A start_child that runs this Python code instead of the checker's child."""
    def start(errors):
        return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=errors)
    return start


def test_a_child_that_cannot_start_is_the_checkers_error(monkeypatch):
    monkeypatch.setattr(sandbox, "start_child", silent_child(
        "import sys; print('no engine here', file=sys.stderr); sys.exit(3)"))
    program = Program("x.py", ".", (), ())
    said = r"child process ended \(exit status 3\); it said: no engine here"
    with pytest.raises(CheckerError, match=said):
        sandbox.check_programs([program], LIMITS)


@pytest.mark.parametrize(("piece", "why", "note", "result"), [
    (Piece("import", "import stuck", "", "x.py"), "time",
     "skipped `import stuck`: it ran longer than 2 s and was stopped", None),
    (Piece("constant", "LR", "", "x.py"), 9, "skipped `LR`: it ended the check process (exit "
                                            "status 9)", None),
    (Piece("def", "helper", "", "x.py"), -9, "skipped `helper`: it ended the check process "
                                              "(SIGKILL)", None),
    # a course function whose def stops the child (a decorator that loops) is an error
    (Piece("def", "relu", "", "x.py"), "time", None,
     ("relu", "error", "its definition ran longer than 2 s and was stopped")),
])
def test_a_piece_that_stops_the_child_is_skipped(piece, why, note, result):
    program = Program("x.py", ".", (piece,), ())
    progress = [sandbox.Progress(program)]
    sandbox.interrupted(("piece", 0, 0), progress, why, LIMITS, io.BytesIO())
    assert progress[0].skipped == {0}
    assert progress[0].notes == ([note] if note else [])
    assert progress[0].task(0)["pieces"] == []
    if result:
        got = progress[0].results[result[0]]
        assert (got.name, got.status, got.detail) == result


@pytest.mark.parametrize(("limits", "message"), [
    (Limits(seconds=float("inf")), "Limits.seconds: inf is not from 0.01 to 3600"),
    (Limits(seconds=float("nan")), "Limits.seconds: nan is not from 0.01 to 3600"),
    (Limits(seconds=-1), "Limits.seconds: -1 is not from 0.01 to 3600"),
    (Limits(memory_mb=1e15), "Limits.memory_mb: 1e+15 is not from 1 to 1048576"),
    (Limits(memory_mb=0), "Limits.memory_mb: 0 is not from 1 to 1048576"),
])
def test_limits_out_of_their_range_are_refused(limits, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        sandbox.check_programs([Program("x.py", ".", (), ())], limits)


def test_a_memory_limit_too_small_for_numpy_is_the_checkers_error_and_names_the_least(
        tmp_path):
    """A limit below what the check itself needs is not blamed on the learner's code; the
    least it names is enough for a correct solution."""
    with pytest.raises(CheckerError, match=r"memory limit too small for NumPy: at least "
                                           r"(\d+) MB \(it is 1 MB\)") as raised:
        check_files([SOLUTION], limits=Limits(seconds=5, memory_mb=1))
    least = int(re.search(r"at least (\d+) MB", str(raised.value)).group(1))
    [report] = check_files([SOLUTION], limits=Limits(seconds=5, memory_mb=least))
    assert report["passed"] is True


HANGING_FORK = '''
import os, time
import numpy as np

def linear_forward(A, W, b):
    if os.fork() == 0:  # a process of its own that keeps the child's pipe open
        os.setsid()
        with open({pids!r}, "a") as pids:
            pids.write(f"{{os.getpid()}}\\n")
        for _ in range(2400):  # until the test lets it go, 2 minutes at most
            if not os.path.exists({hold!r}):
                break
            time.sleep(0.05)
        os._exit(0)
    return np.dot(W, A) + b, (A, W, b)
'''


FORK = '''
import os, time
import numpy as np

def relu(Z):
    child = os.fork()
    if child == 0:  # left running, in the child's process group
        time.sleep(120)
        os._exit(0)
    # the parent writes the pid: a child killed before it ran a line is still counted
    with open({pids!r}, "a") as pids:
        pids.write(f"{{child}}\\n")
    return np.maximum(0, Z), Z
'''


def running(pid: int) -> bool:
    """Whether the process runs (a zombie that nobody reaped has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_a_process_the_learners_code_forks_ends_with_the_check(tmp_path):
    pids = tmp_path / "pids"
    mine = tmp_path / "forks.py"
    mine.write_text(FORK.format(pids=str(pids)))
    try:
        [report] = check_files([mine], limits=Limits(seconds=5))
        assert report["functions"][1]["status"] == "pass"
        forked = [int(pid) for pid in pids.read_text().split()]
        assert len(forked) == 4  # relu's 3 cases, and the first called again (x²)
        # SIGKILL is delivered a moment after the check returns
        deadline = time.monotonic() + 10
        while [pid for pid in forked if running(pid)] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in forked if running(pid)]
    finally:
        for pid in map(int, pids.read_text().split() if pids.exists() else []):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_process_that_keeps_the_pipe_open_does_not_hang_the_check(tmp_path):
    hold, pids = tmp_path / "hold", tmp_path / "pids"
    hold.touch()
    mine = tmp_path / "forks.py"
    mine.write_text(HANGING_FORK.format(pids=str(pids), hold=str(hold)))
    reports = []
    checking = threading.Thread(target=lambda: reports.extend(
        check_files([mine], limits=Limits(seconds=5))), daemon=True)
    try:
        checking.start()
        checking.join(timeout=60)
        assert not checking.is_alive(), "the check waited for the learner's process"
    finally:
        hold.unlink()
        for pid in map(int, pids.read_text().split() if pids.exists() else []):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    row = next(f for f in reports[0]["functions"] if f["name"] == "linear_forward")
    assert (row["status"], row["detail"]) == ("pass", "matches the course on 4 cases")


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
