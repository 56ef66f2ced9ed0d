"""The child process of `check`: it runs a learner's imports and functions, and checks them.

`python -m engine.check.child` reads its job (JSON) on stdin and writes its events on
stdout, one line each, framed by the job's random token; engine.check.sandbox starts it,
watches the time and reads the events. The learner's code never writes there by chance:
before any of it runs, the protocol moves to a private copy of stdout and file
descriptors 1 and 2 go to the null device, so prints (of megabytes, or from C) cannot
corrupt it, and a line without the token (a write to a file descriptor the learner did
not open) is told apart. On Linux the address space is capped at what the child maps
once started and warmed up (Python, NumPy, the engine, and one run of the reference)
plus the job's memory_mb, so an allocation without bound raises MemoryError.

Events: too_small (memory_mb cannot hold the check itself), ready, piece (an import,
constant or def starts), loaded, start (a function), result, end.
"""

import __future__

import builtins
import contextlib
import json
import linecache
import math
import os
import signal
import sys

from engine import course
from engine.check.course_functions import BY_NAME, FUNCTIONS, NAMES
from engine.check.dnn_utils import IMPORTED
from engine.check.observe import exception_text, quiet
from engine.check.outcomes import FunctionResult, learner_line, not_read, timed_out
from engine.check.sandbox import CHANNEL_CLOSED
from engine.check.statements import Piece
from engine.check.verdict import check_named, check_namespace, learner_functions

MIB = 2**20
# room above the check's own peak, for Python's and NumPy's small allocations
MEMORY_MARGIN_MB = 16
DEFINITION_HINT = ("The `def` statement itself failed: the check runs only your imports, "
                   "defs, classes and constants (LR = 0.0075, or values from NumPy's "
                   "functions), so a default value or a decorator must not need anything "
                   "else.")


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


def protocol_channel(token: str):
    """A writer for the events on the real stdout; fds 1 and 2 then go to the null device.
    If the learner's code has closed it, the child ends with status CHANNEL_CLOSED."""
    channel = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(null, 1)
    os.dup2(null, 2)

    def send(**event):
        data = f"{token} {json.dumps(event)}\n".encode()
        try:
            while data:
                data = data[os.write(channel, data):]
        except OSError:
            os._exit(CHANNEL_CLOSED)
    return send


def status_kb(field: str) -> int | None:
    """A field of /proc/self/status in kB (VmSize, VmPeak), or None where it cannot be read."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def mapped_bytes() -> int | None:
    """This process's address space (Linux: VmSize), or None where it cannot be read."""
    size = status_kb("VmSize")
    return None if size is None else size * 1024


def warm_up() -> int:
    """Check the reference once, before any limit: NumPy and BLAS map their buffers on first
    use. The MB the check itself needs above what is mapped then (its peak, and a margin)."""
    check_namespace({name: getattr(course, name) for name in NAMES})
    size, peak = status_kb("VmSize"), status_kb("VmPeak")
    above = 0 if size is None or peak is None else (peak - size) * 1024
    return math.ceil(above / MIB) + MEMORY_MARGIN_MB


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
    """Run the imports, constants and defs in a fresh namespace. One that fails or runs
    too long is skipped with a note, as the course's `from testCases import *` is; a
    course function's def that does so makes that function an error (name -> result)."""
    # the helpers a learner does not define are the engine's own, as the course's `from
    # dnn_utils import ...` binds them (a dict of them, `{"relu": relu}`, finds them), and
    # are taken out again after: they are not the learner's
    helpers = dict(IMPORTED)
    namespace = {"__name__": "__main__", "__builtins__": builtins, **helpers}
    notes, broken, flags = [], {}, 0
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the learner's own modules, beside their file
    os.chdir(folder)
    for number, row in pieces:
        piece = Piece(*row)
        announce(number)
        remember_source(piece)
        try:
            code = compile(piece.code, piece.filename, "exec", flags=flags, dont_inherit=True)
            with time_limit(seconds), quiet():
                exec(code, namespace)
            # `from __future__ import annotations` holds for the pieces after it, as in a file
            flags |= future_flags(code)
        except OutOfTime:
            said, why = f"it ran longer than {seconds:g} s and was stopped", None
        except (Exception, SystemExit) as err:
            said, why = exception_text(err), err
        else:
            continue
        if piece.kind == "def" and piece.name in NAMES:
            broken[piece.name] = definition_failed(piece, said, why)
        else:
            notes.append(f"skipped `{piece.name}`: {said}")
    for name, helper in helpers.items():
        if namespace.get(name) is helper:
            del namespace[name]
    return namespace, notes, broken


def future_flags(code) -> int:
    """The compiler flags of the __future__ features that compiled code has on."""
    features = (getattr(__future__, name) for name in __future__.all_feature_names)
    return sum(f.compiler_flag for f in features if code.co_flags & f.compiler_flag)


def definition_failed(piece: Piece, said: str, err: BaseException | None) -> FunctionResult:
    """A course function whose def raised (a default value that needs a call) or ran too
    long (a decorator): an error, not a function missing."""
    if err is None:
        return not_read(piece.name, f"its definition {said.removeprefix('it ')}", None)
    where = learner_line(err, piece.filename)
    return not_read(piece.name, f"its definition raised {said}"
                    + (f" ({where})" if where else ""), DEFINITION_HINT)


def as_json(result: FunctionResult) -> dict:
    failure = result.failure._asdict() if result.failure else None
    return {**result._asdict(), "failure": failure}


def run_task(task, seconds: float, send):
    """Load one program and check the functions the task names, in §8's order."""
    program = task["program"]
    namespace, notes, broken = load(
        task["pieces"], task["folder"], seconds,
        lambda number: send(event="piece", program=program, piece=number))
    send(event="loaded", program=program, notes=notes,
         defined=sorted(set(learner_functions(namespace)) | set(broken)))
    for spec in FUNCTIONS:
        if spec.name not in task["functions"]:
            continue
        send(event="start", program=program, function=spec.name)
        try:
            with time_limit(seconds):
                result = broken.get(spec.name) or check_named(BY_NAME[spec.name], namespace)
        except OutOfTime:
            result = timed_out(spec.name, seconds)
        except Exception as err:  # the checker's own failure on odd results: say so, go on
            result = FunctionResult(spec.name, "error",
                                    f"could not be checked: {exception_text(err)}")
        send(event="result", program=program, result=as_json(result))


def main():
    job = json.load(sys.stdin)
    # fd 2 stays open (the parent keeps it) until the limits are set: an error of the
    # child's own start is the checker's, and the parent shows it
    need_mb = warm_up()
    if job["memory_mb"] < need_mb:
        protocol_channel(job["token"])(event="too_small", need_mb=need_mb)
        return
    limit = limit_memory(job["memory_mb"])
    send = protocol_channel(job["token"])
    send(event="ready", mapped=mapped_bytes(), limit=limit)
    for task in job["tasks"]:
        run_task(task, job["seconds"], send)
    send(event="end")
    stop_what_is_left()


def stop_what_is_left():
    """End the process group this child leads (the parent starts it in a session of its
    own): the processes the learner's code forked and left running go with it."""
    if hasattr(os, "killpg") and os.getpgid(0) == os.getpid():
        os.killpg(0, signal.SIGKILL)


if __name__ == "__main__":
    main()
