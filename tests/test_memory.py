"""app.memory.FreedMemory: freed memory back to the system, not too often."""

import platform

import pytest

from app.memory import FreedMemory


class Trims:
    def __init__(self):
        self.calls = []

    def __call__(self, pad):
        self.calls.append(pad)
        return 1


@pytest.mark.parametrize(("every", "trimmed"), [(3600.0, [True, False, False]),
                                                (0.0, [True, True, True])])
def test_release_trims_at_most_once_every_so_often(every, trimmed):
    trim = Trims()
    freed = FreedMemory(every, trim)
    assert [freed.release() for _ in range(3)] == trimmed
    assert trim.calls == [0] * sum(trimmed) and freed.trims == sum(trimmed)


def test_without_malloc_trim_nothing_happens(monkeypatch):
    monkeypatch.setattr("app.memory._malloc_trim", lambda: None)
    assert FreedMemory(0.0).release() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_glibc_trims_for_real():
    assert FreedMemory(0.0).release() is True
