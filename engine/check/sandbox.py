"""Run learners' code in a child process, with a time limit and a memory limit.

engine.check.child does the work; this side starts it with `sys.executable -m`, hands it
the programs, reads its events and watches the clock. A function that runs past its
time is stopped by the child's own alarm. One that blocks the alarm, or ends or crashes
the process, is stopped (or found dead) here and gets status error, and a fresh child
checks the rest; an import that does so is skipped. Several programs go to one child,
since starting one (Python, NumPy and the engine) takes seconds.
"""

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import NamedTuple

from engine.check.course_functions import NAMES
from engine.check.source import Program
from engine.check.verdict import Failure, FunctionResult

GRACE = 2.0  # seconds past the child's own alarm before this side stops it
# one BLAS thread: a shared machine's cores are not the learner's, and the address
# space stays small (each OpenBLAS thread maps its own buffers)
CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "MPLBACKEND": "Agg", "PYTHONIOENCODING": "utf-8"}
ROOT = Path(__file__).resolve().parents[2]  # the folder that holds engine/


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


class Progress:
    """One program's results so far, across the children that worked on it."""

    def __init__(self, program: Program):
        self.program = program
        self.results, self.skipped, self.notes = {}, set(), []
        self.load_notes, self.defined = [], []

    def remaining(self) -> list[str]:
        return [name for name in NAMES if name not in self.results]

    def task(self, index: int) -> dict:
        pieces = [[k, list(piece)] for k, piece in enumerate(self.program.pieces)
                  if k not in self.skipped]
        return {"program": index, "folder": self.program.folder, "pieces": pieces,
                "functions": self.remaining()}

    def checked(self) -> Checked:
        return Checked(tuple(self.results[name] for name in NAMES),
                       tuple(self.load_notes + self.notes), tuple(self.defined))


def check_programs(programs, limits: Limits | None = None) -> list[Checked]:
    """Every course function of every program, checked in child processes."""
    limits = limits or Limits()
    progress = [Progress(program) for program in programs]
    # each child either finishes or is stopped in one piece or function, which is
    # then done: this many children always get through
    starts = 1 + sum(len(p.pieces) + len(NAMES) for p in programs)
    for _ in range(starts):
        tasks = [p.task(i) for i, p in enumerate(progress) if p.remaining()]
        if not tasks:
            break
        run_child(tasks, limits, progress)
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
                            env=child_env(), text=True, encoding="utf-8",
                            start_new_session=os.name == "posix")


def line_queue(stream) -> queue.Queue:
    """The stream's lines, read by a thread (portable, unlike select on pipes), then None."""
    lines = queue.Queue()

    def read():
        for line in stream:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=read, daemon=True).start()
    return lines


def stop(child: subprocess.Popen):
    with contextlib.suppress(OSError):
        child.stdin.close()
    if child.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.name == "posix":
                os.killpg(child.pid, signal.SIGKILL)
            else:
                child.kill()
    child.wait()
    child.stdout.close()


def run_child(tasks, limits: Limits, progress: list[Progress]):
    """One child on these tasks, until it ends or is stopped at what it was doing."""
    job = {"tasks": tasks, "seconds": limits.seconds, "memory_mb": limits.memory_mb}
    with tempfile.TemporaryFile() as errors:
        child = start_child(errors)
        try:
            with contextlib.suppress(BrokenPipeError):
                child.stdin.write(json.dumps(job))
                child.stdin.close()
            events, doing, wait = line_queue(child.stdout), None, limits.start_seconds
            while True:
                try:
                    line = events.get(timeout=wait)
                except queue.Empty:
                    return interrupted(doing, progress, "time", limits, errors)
                if line is None:
                    return interrupted(doing, progress, child.wait(), limits, errors)
                event = json.loads(line)
                if event["event"] == "end":
                    return None
                doing, wait = follow(event, progress), limits.seconds + GRACE
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
        progress[event["program"]].results[result["name"]] = FunctionResult(
            **{**result, "failure": failure})
    return ("between",)


def interrupted(doing, progress, why, limits: Limits, errors):
    """The child was stopped (why == "time") or ended with that status while doing
    something: that piece is skipped, that function gets status error."""
    if doing is None or doing[0] == "between":
        errors.seek(0)
        tail = errors.read()[-2000:].decode("utf-8", "replace").strip()
        stopped = "did not answer in time" if why == "time" else f"ended ({exit_text(why)})"
        raise CheckerError(f"the check's child process {stopped}; it said: {tail or 'nothing'}")
    said = (f"ran longer than {limits.seconds:g} s and was stopped" if why == "time"
            else f"ended the check process ({exit_text(why)})")
    p = progress[doing[1]]
    if doing[0] == "piece":
        p.skipped.add(doing[2])
        p.notes.append(f"skipped `{p.program.pieces[doing[2]].name}`: it {said}")
        return
    name = doing[2]
    hint = ("An endless loop? Check that every loop ends." if why == "time" else
            "Does your function call exit() or os._exit(), or crash Python?")
    failure = Failure(name, "the call", "its results", said, hint, None, "error")
    p.results[name] = FunctionResult(name, "error", said, failure)


def exit_text(status: int) -> str:
    if status < 0:
        with contextlib.suppress(ValueError):
            return signal.Signals(-status).name
    return f"exit status {status}"
