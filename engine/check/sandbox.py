"""Run learners' code in a child process, with a time limit and a memory limit.

engine.check.child does the work; this side starts it with `sys.executable -m`, hands it
the programs, reads its events and watches the clock. A function that runs past its
time is stopped by the child's own alarm. One that blocks the alarm, or ends or crashes
the process, is stopped (or found dead) here and gets status error, and a fresh child
checks the rest; an import that does so is skipped. Several programs go to one child,
since starting one (Python, NumPy and the engine) takes a while.

Nothing here waits on the learner's processes (engine.check.child_events reads the pipe).
Events carry a random token per child; a line without it (the learner's code writing to a
file descriptor it did not open) makes that function an error instead of breaking the
check.
"""

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from engine.check.child_events import (
    CLOSED,
    ENDED,
    LONGEST_LINE,
    TIMEOUT,
    line_queue,
    next_line,
    parse_line,
)
from engine.check.course_functions import NAMES
from engine.check.outcomes import Failure, FunctionResult, not_read, timed_out
from engine.check.source import Program

GRACE = 2.0  # seconds past the child's own alarm before this side stops it
# the child's exit status when it cannot write its events: the learner's code closed them
CHANNEL_CLOSED = 75
# one BLAS thread: a shared machine's cores are not the learner's, and the address
# space stays small (each OpenBLAS thread maps its own buffers)
CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "MPLBACKEND": "Agg", "PYTHONIOENCODING": "utf-8"}
ROOT = Path(__file__).resolve().parents[2]  # the folder that holds engine/
# the sane range of each limit, (lowest, highest): `check --time-limit` and
# `--memory-limit` take these too
LIMIT_RANGES = {"seconds": (0.01, 3600.0), "memory_mb": (1.0, 2.0**20)}
CHANNEL_HINT = ("Write to and close only the files your function opens itself (print() is "
                "fine: the check discards it).")


class Limits(NamedTuple):
    seconds: float = 10.0  # per function checked, and per import or def of the file
    memory_mb: float = 1024  # memory the learner's code may take (Linux only)
    start_seconds: float = 120.0  # for the child to start: Python, NumPy and the engine


class CheckerError(RuntimeError):
    """The check itself could not run: its child process did not start, or broke."""


class Checked(NamedTuple):
    results: tuple[FunctionResult, ...]  # in §8's order
    notes: tuple[str, ...]  # imports skipped, and why
    defined: tuple[str, ...]  # the names of the functions the file defines


def limit_error(field: str, value: float) -> str | None:
    """Why a limit is out of its sane range ("inf is not from 0.01 to 3600"), or None."""
    low, high = LIMIT_RANGES[field]
    if low <= value <= high:
        return None
    return f"{value:.12g} is not from {low:.12g} to {high:.12g}"


class Progress:
    """One program's results so far, across the children that worked on it."""

    def __init__(self, program: Program):
        self.program = program
        # a course function that cannot be read (its notebook cell does not parse) is an
        # error from the start
        self.results = {name: not_read(name, f"could not be read: {why}", hint)
                        for name, why, hint in program.broken}
        self.skipped, self.notes, self.stray = set(), [], {}
        self.load_notes, self.defined = [], []

    def remaining(self) -> list[str]:
        return [name for name in NAMES if name not in self.results]

    def task(self, index: int) -> dict:
        pieces = [[k, list(piece)] for k, piece in enumerate(self.program.pieces)
                  if k not in self.skipped]
        return {"program": index, "folder": self.program.folder, "pieces": pieces,
                "functions": self.remaining()}

    def checked(self) -> Checked:
        defined = sorted({*self.defined, *(name for name, *_ in self.program.broken)})
        return Checked(tuple(self.results[name] for name in NAMES),
                       tuple(self.load_notes + self.notes), tuple(defined))


def check_programs(programs, limits: Limits | None = None, on_start=None) -> list[Checked]:
    """Every course function of every program, checked in child processes.  on_start(name):
    told as each function's check starts (a command line shows it: a slow one takes up to
    its time limit)."""
    limits = limits or Limits()
    for field in ("seconds", "memory_mb"):
        if error := limit_error(field, getattr(limits, field)):
            raise ValueError(f"Limits.{field}: {error}")
    progress = [Progress(program) for program in programs]
    # each child either finishes or is stopped in one piece or function, which is
    # then done: this many children always get through
    starts = 1 + sum(len(p.pieces) + len(NAMES) for p in programs)
    for _ in range(starts):
        tasks = [p.task(i) for i, p in enumerate(progress) if p.remaining()]
        if not tasks:
            break
        run_child(tasks, limits, progress, on_start)
    return [p.checked() for p in progress]


def child_env() -> dict:
    env = {**os.environ, **CHILD_ENV}
    if not ROOT.name.endswith("-packages"):  # a source checkout: let the child find engine
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def start_child(errors) -> subprocess.Popen:
    # its own session: stopping it stops anything the learner's code started too
    return subprocess.Popen([sys.executable, "-m", "engine.check.child"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                            env=child_env(), start_new_session=os.name == "posix")


def stop(child: subprocess.Popen):
    with contextlib.suppress(OSError):
        child.stdin.close()
    # the whole session, even when the child itself has ended: what the learner's code
    # forked is still in it
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.name == "posix":
            os.killpg(child.pid, signal.SIGKILL)
        elif child.poll() is None:
            child.kill()
    child.wait()


def run_child(tasks, limits: Limits, progress: list[Progress], on_start=None):
    """One child on these tasks, until it ends or is stopped at what it was doing."""
    token = secrets.token_hex(16)
    job = {"tasks": tasks, "seconds": limits.seconds, "memory_mb": limits.memory_mb,
           "token": token}
    with tempfile.TemporaryFile() as errors:
        child = start_child(errors)
        try:
            lines = line_queue(child)
            with contextlib.suppress(BrokenPipeError):
                child.stdin.write(json.dumps(job).encode())
                child.stdin.close()
            doing, deadline = None, time.monotonic() + limits.start_seconds
            while True:
                line = next_line(lines, child, deadline)
                if line in (TIMEOUT, ENDED, CLOSED):
                    why = {TIMEOUT: "time", CLOSED: CHANNEL_CLOSED}.get(line, child.returncode)
                    return interrupted(doing, progress, why, limits, errors)
                event, stray = parse_line(line, token)
                if stray:
                    strayed(doing, progress, stray)
                if event is None:
                    continue
                if doing is not None and doing[0] == "function" and event["event"] != "result":
                    result_lost(doing, progress)
                if event["event"] == "end":
                    return None
                if event["event"] == "too_small":
                    raise CheckerError(f"memory limit too small for NumPy: at least "
                                       f"{event['need_mb']} MB (it is {limits.memory_mb:g} MB)")
                doing = follow(event, progress)
                if on_start is not None and doing[0] == "function":
                    on_start(doing[2])
                deadline = time.monotonic() + limits.seconds + GRACE
        finally:
            stop(child)


def follow(event: dict, progress: list[Progress]) -> tuple:
    """Record an event; what the child is doing now: ("piece", program, number),
    ("function", program, name) or ("between",)."""
    kind = event["event"]
    if kind == "piece":
        return ("piece", event["program"], event["piece"])
    if kind == "start":
        return ("function", event["program"], event["function"])
    if kind == "loaded":
        p = progress[event["program"]]
        p.load_notes, p.defined = event["notes"], event["defined"]
    elif kind == "result":
        result = event["result"]
        failure = Failure(**result["failure"]) if result["failure"] else None
        p, name = progress[event["program"]], result["name"]
        p.results[name] = (wrote_to_channel(name, p.stray[name]) if name in p.stray else
                           FunctionResult(**{**result, "failure": failure}))
    return ("between",)


def strayed(doing, progress: list[Progress], text: str):
    """A line without the token: the code running now wrote to the child's events."""
    if doing is None or doing[0] == "between":
        return
    p = progress[doing[1]]
    if doing[0] == "function":
        p.stray.setdefault(doing[2], text)
    else:
        p.notes.append(f"`{p.program.pieces[doing[2]].name}` wrote to a file descriptor it "
                       f"did not open: {text[:60]!r}")


def wrote_to_channel(name: str, text: str) -> FunctionResult:
    said = (f"wrote to a file descriptor it did not open (the check's own channel): "
            f"{text[:60]!r}")
    failure = Failure(name, "the call", "its results, and no writes to files it did not open",
                      said, CHANNEL_HINT, None, "error")
    return FunctionResult(name, "error", said, failure)


def result_lost(doing, progress: list[Progress]):
    """A function's check went on to the next event with no result that could be read:
    its line was longer than LONGEST_LINE, and cut. An error, not a check to run again."""
    p, name = progress[doing[1]], doing[2]
    said = (f"its check's result could not be read: more than {LONGEST_LINE // 2**20} MiB "
            "of text")
    failure = Failure(name, "the call", "a result the check can read", said, None, None,
                      "error")
    p.results.setdefault(name, FunctionResult(name, "error", said, failure))


def interrupted(doing, progress, why, limits: Limits, errors):
    """The child was stopped (why == "time") or ended with that status while doing
    something: that piece is skipped, that function gets status error."""
    if doing is None or doing[0] == "between":
        errors.seek(0)
        tail = errors.read()[-2000:].decode("utf-8", "replace").strip()
        stopped = "did not answer in time" if why == "time" else f"ended ({exit_text(why)})"
        raise CheckerError(f"the check's child process {stopped}; it said: {tail or 'nothing'}")
    p = progress[doing[1]]
    if doing[0] == "piece":
        piece = p.program.pieces[doing[2]]
        p.skipped.add(doing[2])
        said = piece_said(why, limits)
        if piece.kind == "def" and piece.name in NAMES:
            p.results[piece.name] = not_read(piece.name, f"its definition {said}", None)
        else:
            p.notes.append(f"skipped `{piece.name}`: it {said}")
        return
    name = doing[2]
    if why == "time":
        p.results[name] = timed_out(name, limits.seconds)
        return
    said = piece_said(why, limits)
    hint = (CHANNEL_HINT if why == CHANNEL_CLOSED else
            "Does your function call exit() or os._exit(), or crash Python?")
    p.results[name] = FunctionResult(name, "error", said, Failure(
        name, "the call", "its results", said, hint, None, "error"))


def piece_said(why, limits: Limits) -> str:
    """What stopped the child, as "it ...": ran too long, closed its channel, ended."""
    if why == "time":
        return f"ran longer than {limits.seconds:g} s and was stopped"
    if why == CHANNEL_CLOSED:
        return "closed the check's own channel, a file descriptor it did not open"
    return f"ended the check process ({exit_text(why)})"


def exit_text(status: int) -> str:
    if status < 0:
        with contextlib.suppress(ValueError):
            return signal.Signals(-status).name
    return f"exit status {status}"
