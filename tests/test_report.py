"""report.html (app/report.py, app/report_figures.py; CONTRACT §4): one page that names
no other file and no outside address, with Plotly inlined, every figure's data inside it,
its text escaped, the chosen layer's tensors as the step record has them (rounded), and a
size that stays a few MB for the biggest runs."""

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from app.pages import PLOTLY_JS, templates
from app.report import script_json
from app.report_figures import REPORT_DIGITS, REPORT_MAX_CELLS
from app.serialize import significant
from engine.config import normalize_config
from engine.run import Run
from tests.conftest import DIVERGENT, SMALL
from tests.test_api import wait_done

pytestmark = pytest.mark.usefixtures("pinned_blas")

BUG_DROPOUT = {**SMALL, "keep_prob": 0.8, "bug": "missing_1_over_m"}
# an attribute value, or a CSS url(), that points away from the file
OUTSIDE = re.compile(r"^\s*(https?:|//|file:|ftp:)", re.I)
CSS_URL = re.compile(r"url\(", re.I)


class Page(HTMLParser):
    """What a report names: every tag's attributes, the scripts' text, the styles' text."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self.styles, self._in = [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None
        if tag == "script":
            self.scripts.append([dict(attrs), ""])

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts[-1][1] += data
        elif self._in == "style":
            self.styles.append(data)


def get_report(client, config, query=""):
    info = client.post("/api/runs", json=config).json()
    wait_done(client, info["id"])  # a big run may take more than the route waits
    response = client.get(f"/api/runs/{info['id']}/report.html{query}")
    assert response.status_code == 200, response.text
    page = Page()
    page.feed(response.text)
    return info, response, page


def figures_of(page) -> dict:
    (text,) = [t for attrs, t in page.scripts if attrs.get("id") == "report-figures"]
    return json.loads(text)


@pytest.mark.parametrize("config", [SMALL, BUG_DROPOUT, DIVERGENT],
                         ids=["small", "bug-dropout", "diverged"])
def test_the_page_names_nothing_outside_itself(client, config):
    _, response, page = get_report(client, config)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert all(not attrs.get("src") for attrs, _ in page.scripts)  # every script inline
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert value is None or not OUTSIDE.match(value), (tag, name, value)
            assert name != "style" or not CSS_URL.search(value or "")
    assert not any(CSS_URL.search(css) for css in page.styles)
    csp = [a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0].startswith("default-src 'none';")
    # the text around the one big script (Plotly's own strings name map tile servers)
    outside_plotly = response.text.replace(PLOTLY_JS.read_text(encoding="utf-8"), "")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", outside_plotly, re.I)


def test_plotly_is_inlined_and_every_figure_has_its_data(client):
    _, response, page = get_report(client, BUG_DROPOUT, "?steps=0,5,19&layer=2")
    assert PLOTLY_JS.read_text(encoding="utf-8") in response.text
    figures = figures_of(page)
    drawn = [attrs["data-figure"] for _, attrs in page.tags if "data-figure" in attrs]
    assert sorted(drawn) == sorted(figures)
    # loss, score, gradient flow, boundary; per step forward, backward and the true gradients
    assert len(drawn) == 4 + 3 * 3
    assert {"step0-true", "step5-true", "step19-true"} <= set(drawn)
    forward = [trace["name"] for trace in figures["step5-forward"]["data"]]
    assert forward == ["A_prev", "W", "b", "Z", "A", "D"]  # layer 2 is hidden: dropout


def test_a_mini_batch_runs_scores_pass_through_the_spread_steps(client):
    """Training scores a mini-batch run's whole sets every k steps; the score figure also
    draws θ_t's scores at the run's evenly spread steps (the scores route's default)."""
    config = {"dataset": "moons", "batch_size": 32, "steps": 120}
    info, _, page = get_report(client, config)
    summary = client.get(f"/api/runs/{info['id']}/summary").json()
    spread = client.get(f"/api/runs/{info['id']}/scores").json()
    assert summary["evaluated_every"] > 1
    traces = {trace["name"]: trace["y"] for trace in figures_of(page)["score"]["data"]}
    for key in ("train_accuracy", "test_accuracy"):
        y = traces[key.replace("_", " ")]
        scored = {t for t, v in enumerate(summary[key]) if v is not None} | set(spread["steps"])
        assert {t for t, v in enumerate(y) if v is not None} == scored, key
        for t, value in zip(spread["steps"], spread[key], strict=True):
            assert y[t] == pytest.approx(value, rel=10 ** (1 - REPORT_DIGITS)), (key, t)


@pytest.mark.parametrize("t", [0, 7])
def test_the_layers_tensors_are_the_step_records_rounded(client, t):
    _, _, page = get_report(client, SMALL, f"?steps={t}&layer=2")
    run = Run(normalize_config(SMALL))
    run.train()
    layer = run.step_record(t, [2])["layers"][0]
    shown = {tr["name"]: np.array(tr["z"], dtype=float)
             for key in (f"step{t}-forward", f"step{t}-backward")
             for tr in figures_of(page)[key]["data"]}
    wanted = {"W": layer["linear_cache"]["W"], "Z": layer["activation_cache"]["Z"],
              "dW": layer["grads"]["dW"], "update W": layer["update"]["W"]}
    for name, X in wanted.items():
        assert np.array_equal(shown[name], significant(X, REPORT_DIGITS)), name


@pytest.mark.parametrize(("config", "query", "sentences"), [
    (SMALL, "?steps=3&layer=2", [
        "linear_cache[2] = (A_prev, W[2], b[2]): A_prev = A[1] (4×80), W[2] (3×4)",
        "activation_cache[2] = Z[2] (3×80); backward needs it for relu′(Z[2]).",
        "A[2] = relu(Z[2]) (3×80) is in neither cache of this layer: the next layer's",
        "Iteration 3 (epoch 3)"]),
    (BUG_DROPOUT, "?steps=0&layer=1", [
        "A[1] = relu(Z[1]) ⊙ D[1] / keep_prob (4×80)",
        "Backward, as this run's mistaken code computed it"]),
    ({**SMALL, "bug": "activation_cache_holds_A"}, "?steps=0&layer=3", [
        "A[3] = sigmoid(Z[3]) (1×80) is in neither cache of this layer: it is the output AL",
        "This run's mistake: its activation_cache held A[3] instead, so backward evaluated "
        "sigmoid′ at A[3]."]),
])
def test_the_framing_says_what_each_cache_holds(client, config, query, sentences):
    _, response, _ = get_report(client, config, query)
    text = re.sub(r"<[^>]+>", "", response.text).replace("&#39;", "'")
    for sentence in sentences:
        assert sentence in text


@pytest.mark.parametrize(("config", "kind"), [
    ({"dataset": "sine", "n_samples": 60, "hidden_layers": [4], "steps": 5}, "fit"),
    ({"dataset": "iris", "hidden_layers": [4], "steps": 5}, None),
])
def test_the_boundary_is_a_fit_or_absent_where_there_is_no_picture(client, config, kind):
    _, response, page = get_report(client, config)
    figures = figures_of(page)
    if kind is None:
        assert "boundary" not in figures and "there is no 2-D picture" in response.text
    else:
        assert figures["boundary"]["layout"]["title"]["text"] == "The fit at iteration 4"


def test_a_big_run_stays_under_8_mb_with_tensors_block_averaged(client):
    big = {"dataset": "spiral", "n_samples": 2000, "hidden_layers": [128] * 3, "steps": 10}
    _, response, page = get_report(client, big, "?steps=" + ",".join(map(str, range(10))))
    assert len(response.content) < 8 * 2**20
    for key, figure in figures_of(page).items():
        for trace in figure["data"]:
            if key.startswith("step"):
                assert np.array(trace["z"], dtype=float).size <= REPORT_MAX_CELLS, key


def test_a_layers_units_are_separate_rows_identical_under_zeros_init(client):
    """The default run's Z[1] is 8×320, over REPORT_MAX_CELLS: its examples are averaged,
    never two of its units, whose rows init=zeros makes identical."""
    _, _, page = get_report(client, {"init": "zeros"}, "?steps=299&layer=1")
    figures = figures_of(page)
    for key in ("step299-forward", "step299-backward"):
        notes = [note["text"] for note in figures[key]["layout"]["annotations"]]
        for trace, note in zip(figures[key]["data"], notes, strict=True):
            if trace["name"] in ("Z", "A", "dA", "dZ"):
                rows = np.array(trace["z"], dtype=float)
                assert rows.shape[0] == 8 and (rows == rows[0]).all(), trace["name"]
                assert f"8×{rows.shape[1]} block means" in note


def test_the_header_names_the_version_of_the_plotly_js_it_inlines(client, small_run):
    # plotly.min.js opens with a banner comment: "* plotly.js v4.1.1"
    inlined = re.search(r"plotly\.js v(\S+)", PLOTLY_JS.read_text(encoding="utf-8")[:500])
    response = client.get(f"/api/runs/{small_run['id']}/report.html?steps=0")
    assert f"Plotly.js {inlined.group(1)} inlined" in response.text


@pytest.mark.parametrize(("query", "detail"), [
    ("?layer=4", "layer: this network has layers 1 to 3, got 4"),
    ("?steps=" + ",".join(map(str, range(11))), "steps: at most 10 steps a request, got 11"),
    ("?steps=20", "steps: this run has steps 0 to 19, got '20'"),
])
def test_bad_queries_are_422_naming_the_field(client, small_run, query, detail):
    response = client.get(f"/api/runs/{small_run['id']}/report.html{query}")
    assert response.status_code == 422 and response.json()["detail"] == detail


def test_text_is_escaped_and_script_json_cannot_end_its_script():
    assert "<" not in script_json({"a": "</script><b>"})
    assert json.loads(script_json({"a": "</script><b>"})) == {"a": "</script><b>"}
    page = templates.env.get_template("report.html").render(
        config_rows=[("dataset", "<img src=x onerror=alert(1)>")], sections=[],
        figures_json="{}", config_json="{}", plotly_js="", dataset="<b>", bug=None)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>" not in page


def test_it_is_sent_gzipped_to_clients_that_accept_it(client, small_run):
    url = f"/api/runs/{small_run['id']}/report.html?steps=0"
    packed = client.get(url, headers={"accept-encoding": "gzip"})
    plain = client.get(url, headers={"accept-encoding": "identity"})
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(packed.content) / 2
    assert "content-encoding" not in plain.headers
    assert plain.content == packed.content  # (the client decodes the gzipped one)
    assert plain.text.startswith("<!doctype html>")
