"""Random POST /api/runs bodies built from the schema: always a 2xx or a clear 4xx."""

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.schemas import RunConfig
from tests.conftest import strict_json

FIELDS = list(RunConfig.model_fields)
CHOICE_FIELDS = {"dataset": "Dataset", "activations": "Activation", "loss": "Loss",
                 "init": "Init", "optimizer": "Optimizer"}

any_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=10)


def choices(field):
    schema = RunConfig.model_json_schema()["properties"][field]
    options = schema.get("enum") or next(
        (s.get("enum") or s.get("items", {}).get("enum") for s in schema.get("anyOf", [])
         if s.get("enum") or s.get("items", {}).get("enum")), None)
    return options or ["relu", "tanh", "sigmoid", "linear", "softmax", "leaky_relu"]


# values near or inside the valid ranges, so that many bodies pass and train (briefly)
PLAUSIBLE = {
    "dataset": st.sampled_from(choices("dataset")),
    "loss": st.none() | st.sampled_from(choices("loss")),
    "init": st.sampled_from(choices("init")),
    "optimizer": st.sampled_from(choices("optimizer")),
    "activations": st.none() | st.lists(st.sampled_from(choices("activations")), max_size=4),
    "hidden_layers": st.lists(st.integers(0, 12), max_size=4),
    "steps": st.integers(0, 8),
    "n_samples": st.integers(19, 300),
    "batch_size": st.none() | st.integers(0, 300),
    "learning_rate": st.floats(0, 10.5, allow_nan=False),
    "seed": st.integers(-1, 2**32),
}
UNIT_FLOAT = st.floats(-0.1, 1.1, allow_nan=False)


def plausible(field):
    return PLAUSIBLE.get(field, UNIT_FLOAT)


bodies = st.one_of(
    # a few plausible fields: often valid
    st.dictionaries(st.sampled_from(FIELDS), st.nothing(), max_size=0).flatmap(
        lambda _: st.fixed_dictionaries(
            {}, optional={f: plausible(f) for f in FIELDS}).filter(lambda d: len(d) <= 4)),
    # every field, each plausible or any JSON value
    st.fixed_dictionaries({}, optional={f: plausible(f) | any_json for f in FIELDS}),
    # any keys at all
    st.dictionaries(st.sampled_from([*FIELDS, "color", ""]) | st.text(max_size=5), any_json,
                    max_size=5),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_random_bodies_never_break_the_server(client, body):
    if isinstance(body.get("steps"), int) and body["steps"] > 8:
        body["steps"] = 8  # keep the valid cases quick
    if isinstance(body.get("n_samples"), int) and body["n_samples"] > 300:
        body["n_samples"] = 300
    response = client.post("/api/runs", json=body)
    event(f"status {response.status_code}")
    assert response.status_code in (201, 202, 413, 422), response.text
    answer = strict_json(response.text)
    if response.status_code >= 400:
        assert isinstance(answer["detail"], str) and ": " in answer["detail"]
    else:
        assert answer["status"] in ("running", "done", "diverged")
