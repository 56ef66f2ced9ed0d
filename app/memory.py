"""Giving the memory of evicted runs back to the system.

glibc's malloc keeps what a process frees for reuse: runs, replays and answers are
thousands of arrays of every size, freed by several threads, so holes stay in its heaps
and RSS stays above what the process holds. malloc_trim(0) returns the whole free pages
of every heap. It walks the heaps (a few milliseconds), so the run cache calls it only
after it has evicted runs, and at most once every TRIM_SECONDS. Elsewhere than glibc
(musl, macOS) there is nothing to call, and nothing happens. Measured in
bench/load_test.py, phase memory (docs/load-test.md).
"""

import ctypes
import ctypes.util
import os
import threading
import time

TRIM_SECONDS = 1.0

# glibc's mallopt parameters (malloc.h), and this server's values, each unless its
# environment variable is set: 2 arenas instead of 8 per core (memory one thread frees is
# reused by the next); arrays from 1 MiB up mapped on their own, and returned whole when
# freed (glibc's own threshold climbs to 32 MiB after the first big free, and then every
# answer's arrays land in the heaps, whose holes stay); the heaps' top given back above
# 4 MiB. Under a load of big answers, a worker peaked at 660 to 760 MB instead of 1,030 to
# 1,090, at the same throughput (docs/deploy.md, "Sizing")
MALLOPT = {"MALLOC_ARENA_MAX": (-8, 2), "MALLOC_MMAP_THRESHOLD_": (-3, 1 << 20),
           "MALLOC_TRIM_THRESHOLD_": (-1, 4 << 20)}


def _libc_function(name: str):
    """A function of glibc, or None (musl, macOS, Windows)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return getattr(libc, name)
    except (OSError, AttributeError):
        return None


def _malloc_trim():
    """glibc's malloc_trim, or None."""
    return _libc_function("malloc_trim")


def tune_malloc(environ=os.environ, mallopt=None) -> dict:
    """Set glibc's malloc as MALLOPT says, except what the environment sets already (glibc
    read it at start); {variable: value} of what was set. Elsewhere than glibc, nothing."""
    mallopt = mallopt or _libc_function("mallopt")
    if mallopt is None:
        return {}
    done = {}
    for variable, (parameter, value) in MALLOPT.items():
        if variable not in environ and mallopt(parameter, value) == 1:
            done[variable] = value
    return done


class FreedMemory:
    """release() returns freed memory to the system, at most once every `every` seconds."""

    def __init__(self, every: float = TRIM_SECONDS, trim=None):
        self.every, self._trim = every, trim or _malloc_trim()
        self._lock, self._last, self.trims = threading.Lock(), -every, 0

    def release(self) -> bool:
        """Trim now unless that was done less than `every` seconds ago; True if trimmed."""
        with self._lock:
            now = time.monotonic()
            if self._trim is None or now - self._last < self.every:
                return False
            self._last = now
        self._trim(0)  # outside the lock: another thread need not wait for it
        self.trims += 1
        return True
