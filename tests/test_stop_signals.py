"""app.stop_signals: a stop signal reaches the app in its event loop, and the handler that
was there (uvicorn's) still runs; the handlers are put back on leaving.

Each case runs in a fresh Python process: signals need the main thread and its own event
loop, which a test worker may already run (Playwright's sync API keeps one going there)."""

import json
import subprocess
import sys

import pytest

from app.stop_signals import STOP_SIGNALS
from tests.server_processes import ROOT

IN_THE_MAIN_THREAD = """
import asyncio, json, signal, sys
from app.stop_signals import on_stop_signal

sig, seen = signal.Signals[sys.argv[1]], []

def before(number, frame):
    seen.append("uvicorn")

async def serve():
    with on_stop_signal(lambda: seen.append("stopping")):
        signal.raise_signal(sig)
        at_once = list(seen)  # the handler before at once; the app in the loop
        await asyncio.sleep(0.01)
    return at_once, signal.getsignal(sig) is before

signal.signal(sig, before)
at_once, restored = asyncio.run(serve())
print(json.dumps({"at_once": at_once, "seen": seen, "restored": restored}))
"""

IN_ANOTHER_THREAD = """
import asyncio, json, signal, threading
from app.stop_signals import STOP_SIGNALS, on_stop_signal

handlers, seen = {}, []

async def serve():
    with on_stop_signal(lambda: seen.append("stopping")):
        handlers.update({sig.name: signal.getsignal(sig) for sig in STOP_SIGNALS})

before = {sig.name: signal.getsignal(sig) for sig in STOP_SIGNALS}
thread = threading.Thread(target=asyncio.run, args=(serve(),))
thread.start()
thread.join(10)
print(json.dumps({"unchanged": handlers == before, "seen": seen}))
"""


def run(script, *args):
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=[s.name for s in STOP_SIGNALS])
def test_a_stop_signal_calls_back_in_the_loop_and_the_handler_before_it(sig):
    got = run(IN_THE_MAIN_THREAD, sig.name)
    assert got == {"at_once": ["uvicorn"], "seen": ["uvicorn", "stopping"], "restored": True}


def test_outside_the_main_thread_it_changes_nothing():
    assert run(IN_ANOTHER_THREAD) == {"unchanged": True, "seen": []}
