"""The child process of `check`: it runs a learner's imports and functions, and checks them.

`python -m engine.check.child` reads its job (JSON) on stdin and writes one JSON line per
event on stdout; engine.check.sandbox starts it, watches the time and reads the events.
The learner's code never writes there: before any of it runs, the protocol moves to a
private copy of stdout and file descriptors 1 and 2 go to the null device, so prints (of
megabytes, or from C) cannot corrupt it. On Linux the address space is capped at what
the child maps once started (Python, NumPy and the engine: about 280 MB with one BLAS
thread) plus the job's memory_mb, so an allocation without bound raises MemoryError.

Events: ready, piece (an import or def starts), loaded, start (a function), result, end.
"""

import builtins
import contextlib
import json
import linecache
import os
import signal
import sys

from engine.check.course_functions import BY_NAME, FUNCTIONS
from engine.check.observe import quiet
from engine.check.source import Piece
from engine.check.verdict import Failure, FunctionResult, check_named, learner_functions

MIB = 2**20


class OutOfTime(BaseException):
    """The learner's code ran past its time. A BaseException, so that their own
    `except Exception:` does not swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Interrupt the code inside after `seconds` (POSIX; elsewhere the parent stops us)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def stop(signum, frame):
        raise OutOfTime
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def protocol_channel():
    """A writer for the events on the real stdout; fds 1 and 2 then go to the null device."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    null = os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(null, 1)
    os.dup2(null, 2)

    def send(**event):
        channel.write(json.dumps(event) + "\n")
        channel.flush()
    return send


def mapped_bytes() -> int | None:
    """This process's address space (Linux: VmSize), or None where it cannot be read."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def limit_memory(memory_mb: float) -> int | None:
    """Cap the address space at what is mapped now plus memory_mb, where the platform
    enforces it: Linux. (Windows has no RLIMIT_AS; macOS accepts it and ignores it.)"""
    mapped = mapped_bytes()
    if not sys.platform.startswith("linux") or mapped is None:
        return None
    import resource

    limit = mapped + int(memory_mb * MIB)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return limit


def remember_source(piece: Piece):
    """Put the piece's lines where tracebacks look for them (linecache), over the lines of
    the pieces before it: a notebook cell is no file, and the line numbers are kept."""
    lines = [line.rstrip("\n") + "\n" for line in piece.code.split("\n")]
    known = list(linecache.cache.get(piece.filename, (0, None, [], ""))[2])
    known += ["\n"] * (len(lines) - len(known))
    for number, line in enumerate(lines):
        if line.strip():
            known[number] = line
    linecache.cache[piece.filename] = (sum(map(len, known)), None, known, piece.filename)


def load(pieces, folder: str, seconds: float, announce):
    """Run the imports and defs in a fresh namespace; one that fails or runs too long is
    skipped with a note, as the course's `from testCases import *` is."""
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    notes = []
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the learner's own modules, beside their file
    os.chdir(folder)
    for number, row in pieces:
        piece = Piece(*row)
        announce(number)
        remember_source(piece)
        try:
            with time_limit(seconds), quiet():
                exec(compile(piece.code, piece.filename, "exec"), namespace)
        except OutOfTime:
            notes.append(f"skipped `{piece.name}`: it ran longer than {seconds:g} s")
        except (Exception, SystemExit) as err:
            notes.append(f"skipped `{piece.name}`: {type(err).__name__}: {err}")
    return namespace, notes


def timed_out(name: str, seconds: float) -> FunctionResult:
    failure = Failure(name, "the call", f"its results within {seconds:g} s",
                      f"ran longer than {seconds:g} s and was stopped", "An endless loop? "
                      "Check that every loop ends.", None, "error")
    return FunctionResult(name, "error", f"ran longer than {seconds:g} s and was stopped",
                          failure)


def as_json(result: FunctionResult) -> dict:
    failure = result.failure._asdict() if result.failure else None
    return {**result._asdict(), "failure": failure}


def run_task(task, seconds: float, send):
    """Load one program and check the functions the task names, in §8's order."""
    program = task["program"]
    namespace, notes = load(task["pieces"], task["folder"], seconds,
                            lambda number: send(event="piece", program=program, piece=number))
    send(event="loaded", program=program, notes=notes,
         defined=sorted(learner_functions(namespace)))
    for spec in FUNCTIONS:
        if spec.name not in task["functions"]:
            continue
        send(event="start", program=program, function=spec.name)
        try:
            with time_limit(seconds):
                result = check_named(BY_NAME[spec.name], namespace)
        except OutOfTime:
            result = timed_out(spec.name, seconds)
        except Exception as err:  # the checker's own failure on odd results: say so, go on
            result = FunctionResult(spec.name, "error", "could not be checked: "
                                    f"{type(err).__name__}: {err}")
        send(event="result", program=program, result=as_json(result))


def main():
    job = json.load(sys.stdin)
    send = protocol_channel()
    send(event="ready", mapped=mapped_bytes(), limit=limit_memory(job["memory_mb"]))
    for task in job["tasks"]:
        run_task(task, job["seconds"], send)
    send(event="end")


if __name__ == "__main__":
    main()
