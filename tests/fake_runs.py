"""A stand-in for engine.run.Run that trains when a test says, for tests of the run cache
and of the event stream that follows a run through it."""

import threading
import time


class FakeRun:
    """Trains until released (at once if its config says "quick"); counts the builds."""

    built = 0

    def __init__(self, config):
        type(self).built += 1
        self.config, self.status, self.size = config, "pending", config.get("size", 100)
        self.peak = config.get("peak", self.size)  # what it will hold once trained
        self.num_steps, self.diverged = 0, None
        self.release = threading.Event()
        if config.get("quick"):
            self.release.set()

    def train(self, progress=None, should_stop=None):
        self.status = "running"
        while not self.release.wait(0.005):
            if should_stop is not None and should_stop():
                self.status = "stopped"
                return self
        if self.config.get("explode"):
            raise RuntimeError("engine bug")
        self.num_steps = self.config.get("steps", 1)
        self.status = "done"
        return self

    def fail(self):
        self.status = "failed"

    def nbytes(self):
        return self.size

    def peak_nbytes(self):
        return self.peak


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)
