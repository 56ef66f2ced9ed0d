"""static/js/state.js, run by Node on the server's own /api/options: the page's dataset
defaults are the engine's (normalize_config), read from the options rather than re-derived,
and the URL format of existing links is unchanged."""

import json

import pytest

from engine.config import CHOICES, normalize_config
from tests.node_runner import call_js, needs_node

pytestmark = needs_node


def run_state(options, calls):
    """The results of state.js's functions, each called as f(*args, options)."""
    return call_js("state.js", [[name, *args, options] for name, *args in calls])


@pytest.fixture(scope="module")
def options(client):
    response = client.get("/api/options")
    assert response.status_code == 200
    return response.json()


HIDDEN = [[], [4], [8, 8], [16, 8, 4]]
CASES = [(d, h) for d in CHOICES["dataset"] for h in HIDDEN]


def test_the_pages_defaults_are_the_engines(options):
    """For every dataset and some hidden layers, the page's defaults of the other fields
    are what the engine makes of {dataset, hidden_layers}."""
    got = run_state(options, [["defaultsFor", {"dataset": d, "hidden_layers": h}]
                              for d, h in CASES])
    for (d, h), page in zip(CASES, got, strict=True):
        assert {**page, "dataset": d, "hidden_layers": h} == normalize_config(
            {"dataset": d, "hidden_layers": h}), (d, h)


def test_the_overrides_of_a_normalized_config_are_the_choices(options):
    """A normalized config reduces to the fields that were chosen, for every dataset."""
    normalized = [normalize_config({"dataset": d, "hidden_layers": h}) for d, h in CASES]
    got = run_state(options, [["configOverrides", config] for config in normalized])
    for (d, h), overrides in zip(CASES, got, strict=True):
        chosen = {"dataset": d, "hidden_layers": h}
        assert overrides == {k: v for k, v in chosen.items()
                             if v != normalize_config({})[k]}, (d, h)


def test_the_page_follows_the_served_defaults(options):
    """Defaults the server changes reach the page: it keeps no rule of its own."""
    changed = json.loads(json.dumps(options))
    moons = next(d for d in changed["datasets"] if d["name"] == "moons")
    moons["default_hidden_activation"] = "tanh"
    moons["default_config"]["noise"] = 0.3
    [page] = run_state(changed, [["defaultsFor", {"dataset": "moons", "hidden_layers": [5, 5]}]])
    assert page["activations"] == ["tanh", "tanh", "sigmoid"]
    assert page["noise"] == 0.3


# (a link's query, the config it means): links made before the defaults came from the server
LINKS = [
    ("?it=3&phase=forward-1&layer=1", {}),
    ("?dataset=digits&hidden_layers=32&it=3", {"dataset": "digits", "hidden_layers": [32]}),
    ("?dataset=digits&hidden_layers=32&activations=relu,softmax&loss=categorical_cross_entropy"
     "&n_samples=400", {"dataset": "digits", "hidden_layers": [32]}),
    ("?dataset=sine&activations=relu,relu,linear&noise=0.1", {"dataset": "sine"}),
    ("?init=zeros&activations=sigmoid,sigmoid,sigmoid&it=20",
     {"init": "zeros", "activations": ["sigmoid", "sigmoid", "sigmoid"]}),
    ("?hidden_layers=8,8,8&activations=relu,relu,relu,sigmoid&noise=0.2&n_samples=400",
     {"hidden_layers": [8, 8, 8]}),
    ("?dataset=iris&n_samples=400&keep_prob=0.8", {"dataset": "iris", "keep_prob": 0.8}),
]


@pytest.mark.parametrize(("search", "config"), LINKS, ids=[s for s, _ in LINKS])
def test_old_links_mean_the_same_config(options, search, config):
    [state] = run_state(options, [["readUrl", search]])
    assert state["config"] == config
    # and the link the page writes back for it names the same fields
    [again] = run_state(options, [["toSearch", state]])
    [restored] = run_state(options, [["readUrl", again]])
    assert restored["config"] == config
