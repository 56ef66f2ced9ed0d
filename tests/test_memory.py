"""app.memory: freed memory back to the system, not too often (FreedMemory), and glibc's
malloc set for a server of arrays (tune_malloc)."""

import platform

import pytest

from app.memory import MALLOPT, FreedMemory, tune_malloc


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


def test_the_allocator_is_set_unless_the_environment_says_otherwise():
    calls = []
    mallopt = lambda parameter, value: calls.append((parameter, value)) or 1  # noqa: E731
    done = tune_malloc({"MALLOC_ARENA_MAX": "4"}, mallopt)
    # glibc's parameters: M_MMAP_THRESHOLD -3, M_TRIM_THRESHOLD -1; the arenas are the env's
    assert calls == [(-3, 1 << 20), (-1, 4 << 20)]
    assert done == {"MALLOC_MMAP_THRESHOLD_": 1 << 20, "MALLOC_TRIM_THRESHOLD_": 4 << 20}
    assert tune_malloc({}, lambda parameter, value: 0) == {}  # glibc refused: nothing said
    assert set(MALLOPT) == {"MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"}


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_settings():
    assert tune_malloc({}) == {name: value for name, (_, value) in MALLOPT.items()}
