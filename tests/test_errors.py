"""app.errors: every error is JSON with a `detail` that names the field; a failed training
is a 500 that says so; nothing else leaks."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.errors import add_error_handlers, describe, field_name
from app.json_body import LongInteger
from app.run_cache import TrainingFailedError
from app.settings import Settings
from engine.config import ConfigError, normalize_config


@pytest.mark.parametrize(("loc", "name"), [
    (("body", "steps"), "steps"),
    (("body", "hidden_layers", 2), "hidden_layers.2"),
    (("body",), "body"),
    (("body", 17), "body"),  # a JSON decode error's position, not a field
    (("query", "max_cells"), "max_cells"),
    (("path", "t"), "t"),
    (("body", "x" * 70000), "x" * 60 + "…"),  # an unknown field's name is not echoed whole
])
def test_field_name_is_the_field_a_client_sent(loc, name):
    assert field_name(loc) == name


@pytest.mark.parametrize(("error", "text"), [
    ({"loc": ("body", "colour"), "msg": "Extra inputs are not permitted",
      "type": "extra_forbidden", "input": "red"}, "colour: unknown field, got 'red'"),
    ({"loc": ("body", "steps"), "msg": "Input should be a valid integer",
      "type": "int_type", "input": "5"}, "steps: input should be a valid integer, got '5'"),
    ({"loc": ("query", "layers"), "msg": "Field required", "type": "missing",
      "input": None}, "layers: field required"),
    ({"loc": ("body", 3), "msg": "JSON decode error", "type": "json_invalid",
      "ctx": {"error": "Expecting value"}}, "body: invalid JSON (Expecting value)"),
    ({"loc": ("body", "seed"), "msg": "Input should be a valid integer", "type": "int_type",
      "input": LongInteger(5000)},
     "seed: an integer of 5000 digits; no field takes more than 100"),
    ({"loc": ("body", "noise"), "msg": "Input should be a valid number", "type": "float_type",
      "input": "x" * 100}, "noise: input should be a valid number, got '" + "x" * 59 + "…"),
])
def test_describe_names_the_field_then_what_is_wrong(error, text):
    assert describe(error) == text


def app_raising(exc: Exception) -> TestClient:
    """An app with the error handlers whose one route raises exc."""
    app = FastAPI()
    app.state.settings = Settings()
    add_error_handlers(app)

    @app.get("/raise")
    async def raising():
        raise exc

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("exc", "status", "detail"), [
    (TrainingFailedError(TrainingFailedError.detail), 500,
     "training failed; see the server log"),
    (ConfigError("steps", "must be <= 50, got 60"), 422, "steps: must be <= 50, got 60"),
    (RuntimeError("secret internals"), 500, "Internal error"),
])
def test_exceptions_answer_json_with_a_detail(exc, status, detail):
    response = app_raising(exc).get("/raise")
    assert response.status_code == status
    assert response.json() == {"detail": detail}


def test_an_unknown_field_of_60_kb_answers_a_short_422(client):
    response = client.post("/api/runs", json={"x" * 60000: 1})
    assert response.status_code == 422
    assert len(response.content) < 1000
    assert response.json()["detail"] == "x" * 60 + "…: unknown field, got 1"
    assert response.json()["errors"][0]["loc"] == ["body", "x" * 60 + "…"]


@pytest.mark.parametrize(("body", "detail"), [
    (b'{"steps": 1e308}', "steps: must be <= 2000, got 1e+308"),
    (b'{"n_samples": -1e300}', "n_samples: input should be greater than or equal to 20, "
                               "got -1e+300"),
    (b'{"hidden_layers": [8, 1e300]}', "hidden_layers.1: must be <= 128, got 1e+300"),
])
def test_a_huge_whole_number_is_quoted_short(client, body, detail):
    response = client.post("/api/runs", content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["detail"]) == (422, detail)


@pytest.mark.parametrize(("body", "detail"), [
    (b'{"steps": true}', "steps: input should be a valid integer, got true"),
    (b'{"learning_rate": NaN}', "learning_rate: input should be a finite number, got NaN"),
    (b'{"learning_rate": -Infinity}',
     "learning_rate: input should be a finite number, got -Infinity"),
    (b'{"steps": {"a": 1}}', 'steps: input should be a valid integer, got {"a": 1}'),
    (b'{"steps": "5"}', "steps: input should be a valid integer, got '5'"),
])
def test_a_rejected_value_is_quoted_as_the_client_wrote_it(client, body, detail):
    """In JSON's words (true, NaN, {"a": 1}), not Python's (True, nan, {'a': 1})."""
    response = client.post("/api/runs", content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["detail"]) == (422, detail)


@pytest.mark.parametrize(("value", "words"), [(True, "got true"), (None, "got null"),
                                              (float("nan"), "got NaN"), ([1], "got [1]")])
def test_the_engine_quotes_a_value_that_is_not_a_number_as_json(value, words):
    with pytest.raises(ConfigError) as info:
        normalize_config({"steps": value} if value is not None else {"hidden_layers": [None]})
    assert str(info.value).endswith(words)


def test_a_missing_body_says_that_an_empty_object_takes_every_default(client):
    """Every field is optional: {} is a config, and the detail says so (it said "field
    required", as if one field were)."""
    response = client.post("/api/runs")
    assert (response.status_code, response.json()["detail"]) == \
        (422, "body: missing; send a JSON object of settings, {} for every default")
