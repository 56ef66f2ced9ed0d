"""Shared fixtures: one in-process app, small runs, strict JSON, BPL_* settings, and run
caches of stand-in runs."""

import json

import pytest
from fastapi.testclient import TestClient

import app.run_cache
from app.main import create_app
from app.run_cache import RunCache
from app.settings import Settings, get_settings
from engine.threads import single_blas_thread
from tests.fake_runs import FakeRun
from tests.trained_runs import ALL_CONFIGS, trained_run

# small enough to train in well under a second, so POST answers 201
SMALL = {"dataset": "moons", "n_samples": 100, "hidden_layers": [4, 3], "steps": 20}
# sine through three wide uniform-initialized layers at lr 10: the cost overflows at step 4
DIVERGENT = {"dataset": "sine", "learning_rate": 10, "steps": 50,
             "hidden_layers": [32, 32, 32], "init": "uniform"}


def strict_json(text: str):
    """json.loads that refuses NaN, Infinity and -Infinity literals."""
    def refuse(literal):
        raise ValueError(f"non-standard JSON literal {literal}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="session")
def client():
    # raise_server_exceptions (the default): any input that reaches the 500 handler fails
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


@pytest.fixture
def make_client():
    """A client of a fresh app with some settings changed; closed after the test."""
    clients = []

    def make(**changes):
        test_client = TestClient(create_app(Settings(**changes)))
        clients.append(test_client.__enter__())
        return clients[-1]

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def small_run(client):
    response = client.post("/api/runs", json=SMALL)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def env_settings(monkeypatch):
    """Set BPL_* variables for an in-process main(); settings are read afresh."""
    def set_env(**variables):
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
    yield set_env
    get_settings.cache_clear()


@pytest.fixture
def fake_runs(monkeypatch):
    """make(budget, max_queued, threads): a RunCache whose runs are FakeRuns (tests.fake_runs);
    closed after the test."""
    monkeypatch.setattr(app.run_cache, "Run", FakeRun)
    FakeRun.built = 0
    caches = []

    def make(budget, max_queued=64, threads=1):
        caches.append(RunCache(budget, max_queued, threads))
        return caches[-1]

    yield make
    for cache in caches:
        cache.close()


@pytest.fixture(scope="module")
def pinned_blas():
    """One BLAS thread, as the server pins it: a matmul's result may depend on the count."""
    single_blas_thread()


@pytest.fixture(scope="module", params=list(ALL_CONFIGS))
def trained(request, pinned_blas):
    """(name, run, the records training computed) of each shared recorded run
    (tests/trained_runs.py), trained once per session."""
    return request.param, *trained_run(request.param)
