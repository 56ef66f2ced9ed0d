"""app.schemas: RunConfig follows the engine's tables; the bounds a server's settings set are
checked by check_config and written into each app's own /openapi.json."""

import pytest

from app.schemas import SERVER_BOUNDED, RunConfig, server_bounds, with_server_bounds
from app.settings import Settings
from engine.config import DEFAULT_CONFIG, LIMITS


def test_run_config_defaults_are_the_engine_defaults():
    assert RunConfig().model_dump() == DEFAULT_CONFIG


@pytest.mark.parametrize(("field", "value"), [("steps", 5000), ("n_samples", 9000)])
def test_the_models_leave_a_server_bound_to_the_settings(field, value):
    """Shared by every app, the model cannot hold one server's maximum: a server that
    allows more must get past it (check_config then applies the app's own)."""
    assert field in SERVER_BOUNDED and value > LIMITS[field].high
    assert getattr(RunConfig(**{field: value}), field) == value
    assert RunConfig(hidden_layers=[512] * 9).hidden_layers == [512] * 9


@pytest.mark.parametrize(("raw", "value"), [
    ({"steps": 5.0}, 5), ({"hidden_layers": [4.0, 3.0]}, [4, 3]), ({"seed": 0.0}, 0)])
def test_whole_numbers_written_as_floats_are_integers(raw, value):
    (field, _), = raw.items()
    assert getattr(RunConfig(**raw), field) == value


@pytest.mark.parametrize("raw", [{"steps": 5.5}, {"steps": "5"}, {"steps": True},
                                 {"steps": 0}, {"hidden_layers": [0]}, {"learning_rate": 11}])
def test_the_engine_ranges_and_strict_types_still_hold(raw):
    with pytest.raises(ValueError, match=next(iter(raw))):
        RunConfig(**raw)


def test_with_server_bounds_writes_the_settings_into_run_config():
    settings = Settings(max_steps=50, max_samples=300, max_hidden_layers=2, max_width=16)
    document = {"components": {"schemas": {"RunConfig": {"properties": {
        "steps": {"type": "integer", "minimum": 1}, "n_samples": {"type": "integer"},
        "hidden_layers": {"type": "array"}, "seed": {"type": "integer"}}}}}}
    fields = with_server_bounds(document, settings)["components"]["schemas"]["RunConfig"][
        "properties"]
    # the defaults within the bounds: 300 steps and 400 samples are beyond this server's
    assert fields["steps"] == {"type": "integer", "minimum": 1, "maximum": 50, "default": 50}
    assert (fields["n_samples"]["maximum"], fields["n_samples"]["default"]) == (300, 300)
    assert fields["hidden_layers"] == {"type": "array", "maxItems": 2, "items": {
        "type": "integer", "minimum": 1, "maximum": 16}, "default": [8, 8]}
    assert fields["seed"] == {"type": "integer"}  # not the server's to bound
    assert set(server_bounds(settings)) == {*SERVER_BOUNDED, "hidden_layers"}


@pytest.mark.parametrize(("changes", "field", "bound", "value"), [
    ({}, "steps", "maximum", 2000),
    ({"max_steps": 50}, "steps", "maximum", 50),
    ({"max_steps": 5000}, "steps", "maximum", 5000),
    ({"max_samples": 300}, "n_samples", "maximum", 300),
    ({"max_hidden_layers": 2}, "hidden_layers", "maxItems", 2),
])
def test_openapi_bounds_follow_the_settings_of_the_app(make_client, changes, field, bound,
                                                       value):
    schema = make_client(**changes).get("/openapi.json").json()
    assert schema["components"]["schemas"]["RunConfig"]["properties"][field][bound] == value


def test_openapi_widths_follow_the_settings_of_the_app(make_client):
    schema = make_client(max_width=16).get("/openapi.json").json()
    widths = schema["components"]["schemas"]["RunConfig"]["properties"]["hidden_layers"]
    assert widths["items"] == {"type": "integer", "minimum": 1, "maximum": 16}
