"""Tests for engine.check.child_events: the child's events, read without waiting on the
processes its learner's code may leave holding the pipe."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from engine.check.child_events import CLOSED, ENDED, TIMEOUT, line_queue, next_line, parse_line

TOKEN = "5ec7e7"


@pytest.mark.parametrize(("line", "event", "stray"), [
    (f'{TOKEN} {{"event": "end"}}', {"event": "end"}, ""),
    # the learner's write without a newline, then the child's event on the same line
    (f'hello{TOKEN} {{"event": "end"}}', {"event": "end"}, "hello"),
    ('{"event": "result", "result": {"status": "pass"}}', None,
     '{"event": "result", "result": {"status": "pass"}}'),  # no token: not an event
    (f"{TOKEN} not json", None, f"{TOKEN} not json"),
    (f"{TOKEN} [1, 2]", None, f"{TOKEN} [1, 2]"),
    (f'{TOKEN} {{"no": "event"}}', None, f'{TOKEN} {{"no": "event"}}'),
    ("", None, ""),
])
def test_parse_line(line, event, stray):
    assert parse_line(line, TOKEN) == (event, stray)


def child(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, start_new_session=True)


def lines_until_not_a_line(process, seconds=30.0):
    lines, deadline = [], time.monotonic() + seconds
    queue = line_queue(process)
    while (line := next_line(queue, process, deadline)) not in (TIMEOUT, ENDED, CLOSED):
        lines.append(line)
    return lines, line


@pytest.mark.parametrize(("code", "lines", "end", "status"), [
    ("print('a'); print('b', end='')", ["a", "b"], ENDED, 0),
    ("import sys; print('a', flush=True); sys.exit(3)", ["a"], ENDED, 3),
    # its stdout closed while it runs on: the learner's code closed the events
    ("import os, time; print('a', flush=True); os.close(1); time.sleep(60)", ["a"], CLOSED,
     None),
])
def test_the_lines_and_how_they_end(code, lines, end, status):
    process = child(code)
    try:
        assert lines_until_not_a_line(process) == (lines, end)
        assert process.returncode == status
    finally:
        process.kill()
        process.wait()


def test_a_child_that_says_nothing_runs_out_of_time():
    process = child("import time; time.sleep(60)")
    try:
        assert lines_until_not_a_line(process, seconds=0.5) == ([], TIMEOUT)
    finally:
        process.kill()
        process.wait()


def test_a_process_that_keeps_the_pipe_open_after_the_child_has_gone_is_not_waited_for():
    process = child("import os, time\npid = os.fork()\nif pid == 0:\n    os.setsid()\n"
                    "    time.sleep(60)\n    os._exit(0)\nprint(pid)")
    lines, end = lines_until_not_a_line(process)
    try:
        assert (len(lines), end, process.returncode) == (1, ENDED, 0)
    finally:
        with contextlib.suppress(ProcessLookupError, ValueError, IndexError):
            os.kill(int(lines[0]), signal.SIGKILL)
