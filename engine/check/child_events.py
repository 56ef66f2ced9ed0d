"""The child's events, read from its stdout without waiting on the learner's processes.

A process the learner's code starts in a session of its own may keep the child's pipe
open long after the child has gone. So the pipe is read by a thread that owns it and
that nobody joins or interrupts, and the end of the child is its exit status, not the
end of the pipe. Each event is one line, framed by the job's random token.
"""

import contextlib
import json
import os
import queue
import subprocess
import threading
import time

POLL = 0.1  # seconds between looks at whether the child has ended
QUIET = 0.2  # once the child has ended, what it wrote is read until the pipe is this quiet
EXIT_WAIT = 1.0  # seconds for the child to exit once its events have ended
LONGEST_LINE = 2**20  # bytes: longer garbage without a newline is cut into lines
TIMEOUT, ENDED, CLOSED = "timeout", "ended", "closed"  # what next_line gives besides lines


def line_queue(child: subprocess.Popen) -> queue.Queue:
    """The child's lines on stdout, read by a thread that owns the pipe, then None. The
    thread closes the pipe at its end, which comes when every process holding it is gone:
    nobody waits for that, and nobody closes the pipe under the thread."""
    fd = os.dup(child.stdout.fileno())
    child.stdout.close()
    lines = queue.Queue()

    def read():
        pending = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(fd, 65536):
                *complete, pending = (pending + chunk).split(b"\n")
                if len(pending) > LONGEST_LINE:
                    complete, pending = [*complete, pending], b""
                for line in complete:
                    lines.put(line.decode("utf-8", "replace"))
        if pending:
            lines.put(pending.decode("utf-8", "replace"))
        lines.put(None)
        os.close(fd)
    threading.Thread(target=read, daemon=True).start()
    return lines


def next_line(lines: queue.Queue, child: subprocess.Popen, deadline: float) -> str:
    """The child's next line; TIMEOUT if the deadline (time.monotonic) comes first; ENDED
    once the child has exited (child.returncode says how) and what it wrote is read;
    CLOSED if its events end while it still runs (the learner's code closed them)."""
    while True:
        ended = child.poll() is not None
        left = deadline - time.monotonic()
        if left <= 0:
            return ENDED if ended else TIMEOUT
        try:
            line = lines.get(timeout=min(left, QUIET if ended else POLL))
        except queue.Empty:
            if ended:
                return ENDED
            continue
        if line is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=min(left, EXIT_WAIT))
            return ENDED if child.returncode is not None else CLOSED
        return line


def parse_line(line: str, token: str) -> tuple[dict | None, str]:
    """(the event the line carries, or None; anything else on the line)."""
    before, found, after = line.partition(token)
    if not found:
        return None, line.strip()
    try:
        event = json.loads(after)
    except ValueError:
        return None, line.strip()
    if not isinstance(event, dict) or "event" not in event:
        return None, line.strip()
    return event, before.strip()
