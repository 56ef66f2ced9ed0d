"""app.stop_signals: a stop signal reaches the app in its event loop, and the handler that
was there (uvicorn's) still runs; the handlers are put back on leaving."""

import asyncio
import signal
import threading

import pytest

from app.stop_signals import STOP_SIGNALS, on_stop_signal

in_main_thread = pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                                    reason="signals reach the main thread only")


@in_main_thread
@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=[s.name for s in STOP_SIGNALS])
def test_a_stop_signal_calls_back_in_the_loop_and_the_handler_before_it(sig):
    seen = []

    def before(number, frame):
        seen.append("uvicorn")

    async def serve():
        with on_stop_signal(lambda: seen.append("stopping")):
            signal.raise_signal(sig)
            assert seen == ["uvicorn"]  # the handler before at once; the app in the loop
            await asyncio.sleep(0.01)
        return signal.getsignal(sig)

    original = signal.signal(sig, before)
    try:
        restored = asyncio.run(serve())
    finally:
        signal.signal(sig, original)
    assert seen == ["uvicorn", "stopping"]
    assert restored is before


def test_outside_the_main_thread_it_changes_nothing():
    handlers, seen = {}, []

    async def serve():
        with on_stop_signal(lambda: seen.append("stopping")):
            handlers.update({sig: signal.getsignal(sig) for sig in STOP_SIGNALS})

    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    thread.join(10)
    assert handlers == before and seen == []
