"""Schemathesis drives every operation of /openapi.json against the in-process app and
checks each answer against the document: status, content type and body schema, and never
a 500. Bounded in examples, so that it takes well under a minute on two cores."""

import time

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.settings import Settings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 25  # per operation and phase


# a small compute budget: generated configs that pass train in milliseconds, and the rest
# answer the documented 422 (the default run, whose id is the documented example, fits)
APP = create_app(Settings(compute_budget=1e8, sync_seconds=2))


def trained_default_run(app, seconds=60):
    """Train the default run first, so that the documented example id reaches its step,
    histogram and gradcheck answers instead of their 409s. (No lifespan: its end would
    stop the app's training threads.)"""
    client, deadline = TestClient(app), time.monotonic() + seconds
    run_id = client.post("/api/runs", json={}).json()["id"]
    while client.get(f"/api/runs/{run_id}").json()["status"] == "running":
        assert time.monotonic() < deadline, "the default run did not train"
        time.sleep(0.05)


trained_default_run(APP)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.generation.update(max_examples=EXAMPLES, database="none")
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=EXAMPLES)
def test_answers_conform_to_the_openapi_document(case):
    case.call_and_validate(checks=CHECKS)
