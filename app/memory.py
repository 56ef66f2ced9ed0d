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
import threading
import time

TRIM_SECONDS = 1.0


def _malloc_trim():
    """glibc's malloc_trim, or None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


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
