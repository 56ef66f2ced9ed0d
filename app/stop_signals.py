"""The server's stop signals reach the app at once, not only at the lifespan's end.

On SIGTERM or SIGINT uvicorn stops accepting, waits up to its graceful timeout (5 s) for
open responses, cuts them, and only then runs the lifespan's shutdown. An event stream of a
run still training never ends by itself, so it was cut with no word, and the server logged
an error on every restart. Told at the signal, the run cache stops training, and each
stream ends with its documented `error` event (app.events) well within that wait.
"""

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def on_stop_signal(stopping: Callable[[], None]):
    """Calls stopping() in this event loop on a stop signal, then the handler that was
    there (uvicorn's, which starts its shutdown); puts that handler back on leaving.
    Signals reach the main thread only: elsewhere (a test client's lifespan) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

    def handle(sig, frame):
        # only a flag is safe in a signal handler: the loop runs stopping() between tasks
        loop.call_soon_threadsafe(stopping)
        if callable(before[sig]):
            before[sig](sig, frame)

    for sig in STOP_SIGNALS:
        signal.signal(sig, handle)
    try:
        yield
    finally:
        for sig, handler in before.items():
            if signal.getsignal(sig) is handle:
                signal.signal(sig, handler)
