"""Running a coroutine function from a sync test."""

from concurrent.futures import ThreadPoolExecutor

import anyio


def run_async(function, *args):
    """anyio.run(function, *args) on a thread of its own: a browser test's Playwright (sync
    API) may have left an event loop running on this xdist worker's main thread, and
    anyio.run refuses to nest. Exceptions come through."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, function, *args).result()
