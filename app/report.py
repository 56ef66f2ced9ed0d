"""report.html: one self-contained page of a run, for a course site or an LMS.

The page holds the config, the loss and accuracy, the gradient flow, the decision boundary
or fit, and one layer's caches at some steps, framed as the course frames them. Plotly.js
is inlined from the installed plotly package and the figures are JSON inside the page, so
it opens from a file with no request leaving it; its Content-Security-Policy (a meta tag)
refuses any that would. Text is escaped by Jinja's autoescape, and the JSON in a <script>
has every `<` written as \\u003c, so no `</script>` can end it early.
"""

import json
import re
from functools import cache

from plotly.offline import get_plotlyjs_version

from app import __version__
from app.pages import PLOTLY_JS, templates
from app.report_figures import (
    REPORT_DIGITS,
    REPORT_MAX_CELLS,
    boundary_figure,
    gradient_flow_figure,
    loss_figure,
    score_figure,
    tensor_panels,
)
from app.serialize import MAX_WHOLE_ROWS, dumps

MAX_REPORT_STEPS = 10  # each named step adds a few figures of its caches and gradients
# the banner comment that opens plotly.min.js: "* plotly.js v4.1.1"
PLOTLY_BANNER = re.compile(r"plotly\.js v(\d[\w.+-]*)")
# PLOT_CONFIG of static/js/plot_theme.js: the PNG download stays, nothing links away
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False,
               "showEditInChartStudio": False, "showLink": False,
               "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d",
                                          "sendDataToCloud"]}


def script_json(value) -> str:
    """JSON text that is safe inside a <script> element: `<` only occurs inside strings,
    where \\u003c reads the same."""
    return dumps(value).decode().replace("<", "\\u003c")


def framing(l: int, layer: dict, config: dict) -> list[str]:
    """The course's words for layer l's cache at this step, with the shapes."""
    shape = {name: "×".join(map(str, X.shape)) for name, X in
             {**layer["linear_cache"], **layer["activation_cache"], "A": layer["A"]}.items()}
    g, last = layer["activation"], l == len(config["activations"])
    previous = "X" if l == 1 else f"A[{l - 1}]"
    A = f"{g}(Z[{l}])" + ("" if layer["D"] is None else f" ⊙ D[{l}] / keep_prob")
    words = [f"cache[{l}] = (linear_cache[{l}], activation_cache[{l}]), as "
             f"linear_activation_forward returns it.",
             f"linear_cache[{l}] = (A_prev, W[{l}], b[{l}]): A_prev = {previous} "
             f"({shape['A_prev']}), W[{l}] ({shape['W']}), b[{l}] ({shape['b']}); "
             f"Z[{l}] = W[{l}] A_prev + b[{l}].",
             f"activation_cache[{l}] = Z[{l}] ({shape['Z']}); backward needs it for "
             f"{g}′(Z[{l}]).",
             f"A[{l}] = {A} ({shape['A']}) is in neither cache of this layer: "
             + ("it is the output AL, which the cost reads." if last else
                "the next layer's linear_cache holds it as its A_prev.")]
    if config.get("bug") == "activation_cache_holds_A":
        words.append(f"This run's mistake: its activation_cache held A[{l}] instead, so "
                     f"backward evaluated {g}′ at A[{l}].")
    return words


def step_section(record: dict, layer_number: int, config: dict) -> tuple[dict, dict]:
    """(the words of one step, its figures by key) for the chosen layer."""
    t, layer = record["step"], record["layers"][0]
    forward = [*layer["linear_cache"].items(), *layer["activation_cache"].items(),
               ("A", layer["A"])] + ([("D", layer["D"])] if layer["D"] is not None else [])
    figures = {f"step{t}-forward": tensor_panels(forward),
               f"step{t}-backward": tensor_panels(
                   [*layer["grads"].items(),
                    *((f"update {k}", X) for k, X in layer["update"].items())])}
    if "true_grads" in layer:
        figures[f"step{t}-true"] = tensor_panels(
            [(f"true {k}", X) for k, X in layer["true_grads"].items()])
    words = {"t": t, "cost": record["cost"], "epoch": record["epoch"],
             "framing": framing(layer_number, layer, config), "figures": list(figures),
             "dropout": layer["D"] is not None}
    return words, figures


def config_rows(run_id: str, run) -> list[tuple[str, str]]:
    rows = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in run.config.items()]
    return [("run id", run_id), *rows, ("steps recorded", str(run.num_steps)),
            ("diverged", json.dumps(run.diverged))]


def report_context(run_id: str, run, steps: list[int], layer: int) -> dict:
    summary = run.summary()
    spread = run.scores() if summary["evaluated_every"] > 1 else None  # a mini-batch run
    figures = {"loss": loss_figure(summary), "score": score_figure(summary, spread),
               "gradient-flow": gradient_flow_figure(summary)}
    drawn = boundary_figure(run, steps[-1])
    if drawn is not None:
        figures["boundary"] = drawn
    sections = []
    for t in steps:
        words, shown = step_section(run.step_record(t, [layer]), layer, run.config)
        sections.append(words)
        figures.update(shown)
    return {"config_rows": config_rows(run_id, run), "sections": sections, "layer": layer,
            "boundary_step": steps[-1], "has_boundary": drawn is not None,
            "dataset": run.config["dataset"], "bug": run.config.get("bug"),
            "figures_json": script_json(figures), "config_json": script_json(PLOT_CONFIG),
            "max_cells": REPORT_MAX_CELLS, "max_rows": MAX_WHOLE_ROWS,
            "digits": REPORT_DIGITS, "version": __version__,
            "plotly_version": plotly_js_version()}


@cache
def plotly_script() -> str:
    """plotly.min.js, safe to inline: it holds no `</script`, and should a future bundle,
    `<\\/` reads the same inside the strings and regular expressions where it could be.
    Read once per process: 4.8 MB."""
    return PLOTLY_JS.read_text(encoding="utf-8").replace("</script", "<\\/script")


@cache
def plotly_js_version() -> str:
    """The version of the plotly.js that the page inlines, from its banner. Not
    plotly.__version__: that is the Python package's own number (7.1.0 bundles 4.1.1)."""
    found = PLOTLY_BANNER.search(plotly_script()[:1000])
    return found.group(1) if found else get_plotlyjs_version()


def report_html(run_id: str, run, steps: list[int], layer: int) -> bytes:
    """The page's bytes (UTF-8); steps: at least one recorded step; layer: 1 to L."""
    context = report_context(run_id, run, steps, layer)
    page = templates.env.get_template("report.html").render(plotly_js=plotly_script(),
                                                             **context)
    return page.encode("utf-8")
