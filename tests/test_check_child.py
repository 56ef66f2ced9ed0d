"""Tests for engine.check.child: the protocol on stdout, the learner's lines in tracebacks,
and the time limit (the child itself runs in tests/test_check_sandbox.py)."""

import contextlib
import json
import linecache
import os
import signal
import subprocess
import sys
import time

import pytest

from engine.check.child import (
    MEMORY_MARGIN_MB,
    OutOfTime,
    as_json,
    remember_source,
    time_limit,
)
from engine.check.outcomes import Failure, FunctionResult
from engine.check.sandbox import child_env
from engine.check.statements import Piece


def test_a_notebooks_cells_are_remembered_for_tracebacks():
    name = "nb.ipynb, code cell 3"
    remember_source(Piece("import", "import numpy as np", "import numpy as np", name))
    remember_source(Piece("def", "f", "\n\ndef f():\n    return 1", name))
    assert linecache.getline(name, 1) == "import numpy as np\n"
    assert linecache.getline(name, 4) == "    return 1\n"


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="POSIX alarms")
def test_the_time_limit_interrupts_a_loop_that_catches_exceptions():
    start = time.monotonic()
    with pytest.raises(OutOfTime), time_limit(0.2):
        while True:
            with contextlib.suppress(Exception):  # cannot swallow the time limit
                time.sleep(0.01)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert time.monotonic() - start < 5  # stopped, not left running


def test_a_result_goes_as_json_and_back():
    result = FunctionResult("relu", "fail", "A differs", Failure(
        "relu", "A", "1", "2", None, "case", "values"))
    assert json.loads(json.dumps(as_json(result)))["failure"]["what"] == "A"


def run_child(job):
    return subprocess.run([sys.executable, "-m", "engine.check.child"], input=json.dumps(job),
                          capture_output=True, text=True, env=child_env(), timeout=120)


RELU_JOB = {"tasks": [{"program": 0, "folder": os.getcwd(), "functions": ["relu"], "pieces": [
    [0, ["def", "relu", "import os\ndef relu(Z):\n    print('hi')\n    os.write(1, b'x')\n"
                        "    return Z * (Z > 0), Z", "mine.py"]]]}],
            "seconds": 10, "memory_mb": 500, "token": "t0k3n"}


def test_the_protocol_is_the_only_thing_on_stdout():
    """The learner's prints, from Python and straight to fd 1, go elsewhere; every event
    carries the job's token."""
    done = run_child(RELU_JOB)
    assert all(line.startswith("t0k3n {") for line in done.stdout.splitlines())
    events = [json.loads(line.split(" ", 1)[1]) for line in done.stdout.splitlines()]
    assert [e["event"] for e in events] == ["ready", "piece", "loaded", "start", "result", "end"]
    assert events[4]["result"]["status"] == "pass"
    assert done.returncode == 0 and done.stderr == ""


def test_a_memory_limit_too_small_for_the_check_itself_is_said_before_any_learner_code():
    done = run_child({**RELU_JOB, "memory_mb": 1})
    [line] = done.stdout.splitlines()
    event = json.loads(line.split(" ", 1)[1])
    assert event["event"] == "too_small" and event["need_mb"] >= MEMORY_MARGIN_MB
    assert done.returncode == 0


def test_the_childs_own_start_up_errors_reach_its_stderr():
    """fd 2 goes to the null device only once the limits are set."""
    job = {key: value for key, value in RELU_JOB.items() if key != "memory_mb"}
    done = run_child(job)
    assert done.returncode == 1 and done.stdout == ""
    assert "KeyError: 'memory_mb'" in done.stderr
