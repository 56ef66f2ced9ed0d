"""The Plotly figures of report.html (app.report), as plain dicts: the loss, the accuracy
or R², the gradient flow, the decision boundary or fit, and one layer's tensors at a step.

Tensors are block-averaged to at most REPORT_MAX_CELLS cells and rounded to REPORT_DIGITS
significant digits (app.serialize), so that a report of the biggest run stays a few MB. As on
the page, the averaging runs along the columns (examples) and keeps a layer's units apart
(app.serialize.block_factors).
"""

import numpy as np

from app.serialize import Form, tensor
from engine.boundary import boundary

REPORT_MAX_CELLS = 1024
REPORT_DIGITS = 4
# the page's scales (static/js/plot_theme.js): ColorBrewer RdBu, negative blue; PuOr
DIVERGING = [[0.0, "#053061"], [0.1, "#2166ac"], [0.2, "#4393c3"], [0.3, "#92c5de"],
             [0.4, "#d1e5f0"], [0.5, "#f7f7f7"], [0.6, "#fddbc7"], [0.7, "#f4a582"],
             [0.8, "#d6604d"], [0.9, "#b2182b"], [1.0, "#67001f"]]
PROBABILITY = [[0.0, "#542788"], [0.25, "#b2abd2"], [0.5, "#f7f7f7"], [0.75, "#fdb863"],
               [1.0, "#b35806"]]
CLASS_COLOURS = ["#542788", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#CC79A7",
                 "#0072B2", "#F0E442", "#000000", "#999999"]
LAYER_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12,
        "color": "#222222"}


def layout(title: str, **extra) -> dict:
    return {"title": {"text": title}, "font": FONT, "paper_bgcolor": "#fff",
            "plot_bgcolor": "#fff", "margin": {"l": 60, "r": 16, "t": 40, "b": 44},
            "height": 320, **extra}


def rounded(values) -> np.ndarray:
    """A series at display precision; None (a step not scored) as NaN, drawn as a gap."""
    X = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return tensor(X.reshape(1, -1), form=Form(REPORT_DIGITS))["data"][0]


def line(y, name: str, colour: str | None = None) -> dict:
    trace = {"type": "scatter", "mode": "lines", "name": name, "y": rounded(y)}
    return {**trace, "line": {"color": colour}} if colour else trace


def loss_figure(summary: dict) -> dict:
    return {"data": [line(summary["cost"], "cost J", "#222222")],
            "layout": layout("Cost J per iteration", xaxis={"title": {"text": "iteration"}},
                             yaxis={"title": {"text": "J"}})}


def score_figure(summary: dict, spread: dict | None = None) -> dict:
    """Accuracy (classification) or R² (regression) per iteration, a line through the steps
    scored: the summary's, and a mini-batch run's evenly spread scores (engine.run.Run.scores:
    "steps", "train", "test"), if given."""
    names = [k for k in ("train_accuracy", "test_accuracy", "batch_accuracy", "train_r2",
                         "test_r2", "batch_r2") if summary.get(k) is not None]
    series = {k: list(summary[k]) for k in names}
    for k in names:
        set_name = k.split("_")[0]
        if spread is not None and set_name in ("train", "test"):
            for t, value in zip(spread["steps"], spread[set_name], strict=True):
                series[k][t] = value
    traces = [{**line(series[k], k.replace("_", " ")), "connectgaps": True} for k in names]
    what = "R²" if any(k.endswith("r2") for k in names) else "Accuracy"
    return {"data": traces, "layout": layout(f"{what} per iteration",
                                             xaxis={"title": {"text": "iteration"}})}


def gradient_flow_figure(summary: dict) -> dict:
    """‖dW[l]‖ per layer over the iterations, on a log axis: vanishing or exploding shows."""
    traces = [line(layer["dW_norm"], f"‖dW[{layer['l']}]‖",
                   LAYER_COLOURS[k % len(LAYER_COLOURS)])
              for k, layer in enumerate(summary["layers"])]
    return {"data": traces, "layout": layout("Gradient flow: ‖dW[l]‖ per layer",
                                             xaxis={"title": {"text": "iteration"}},
                                             yaxis={"type": "log", "title": {"text": "‖dW‖"}})}


def training_points(data) -> list[dict]:
    """The training examples as points coloured by class (2-D classification)."""
    classes = data.Y_train.argmax(axis=0) if data.Y_train.shape[0] > 1 else data.Y_train[0]
    names = data.info.classes or []
    return [{"type": "scatter", "mode": "markers",
             "name": names[int(c)] if int(c) < len(names) else f"class {int(c)}",
             "x": data.X_train[0, classes == c], "y": data.X_train[1, classes == c],
             "marker": {"size": 5, "color": CLASS_COLOURS[int(c) % len(CLASS_COLOURS)],
                        "line": {"width": 0.8, "color": "#222"}}}
            for c in np.unique(classes)]


def boundary_figure(run, t: int) -> dict | None:
    """The model at step t over the data (engine.boundary); None for data it cannot draw."""
    answer = boundary(run, t)
    kind, data = answer["kind"], run.data
    if kind == "none":
        return None
    if kind == "regression":
        traces = [{"type": "scatter", "mode": "markers", "name": "training data",
                   "x": data.X_train[0], "y": data.Y_train[0], "marker": {"size": 4}},
                  {"type": "scatter", "mode": "lines", "name": f"fit at iteration {t}",
                   "x": answer["x"], "y": rounded(answer["output"][0])}]
        return {"data": traces, "layout": layout(f"The fit at iteration {t}")}
    grid = answer["output"] if kind == "classification" else answer["probability"]
    title = "P(y = 1)" if kind == "classification" else "top class's probability"
    heat = {"type": "heatmap", "x": answer["x"], "y": answer["y"],
            "z": tensor(grid, form=Form(REPORT_DIGITS))["data"], "zmin": 0, "zmax": 1,
            "colorscale": PROBABILITY, "colorbar": {"title": {"text": title}}}
    return {"data": [heat, *training_points(data)],
            "layout": layout(f"Decision boundary at iteration {t}", height=420,
                             legend={"orientation": "h"})}


def tensor_panels(named: list[tuple[str, np.ndarray]]) -> dict:
    """One figure with a heatmap per named tensor side by side, rows down as in the matrix;
    each title gives the shape and the range, since the panels share no colour bar."""
    gap = 0.04
    width = (1 - gap * (len(named) - 1)) / len(named)
    traces, axes, notes = [], {}, []
    for k, (name, X) in enumerate(named):
        suffix, start = "" if k == 0 else str(k + 1), k * (width + gap)
        trace, note = heatmap_panel(name, X, suffix, start + width / 2)
        traces.append(trace)
        notes.append(note)
        axes[f"xaxis{suffix}"] = {"domain": [start, start + width], "anchor": f"y{suffix}",
                                  "showticklabels": False}
        axes[f"yaxis{suffix}"] = {"autorange": "reversed", "anchor": f"x{suffix}",
                                  "showticklabels": False}
    # side margins: a panel's title may be wider than its panel ("-0.428 … 0.743" over a
    # narrow db), and the first's and last's would be cut at the figure's edge
    return {"data": traces, "layout": layout("", height=240, annotations=notes,
                                             margin={"l": 28, "r": 28, "t": 56, "b": 10},
                                             **axes)}


def heatmap_panel(name: str, X: np.ndarray, suffix: str, centre: float) -> tuple[dict, dict]:
    """(the heatmap of X on axes x{suffix}, y{suffix}, its title above it): zero white,
    the colours spanning the tensor's largest finite |value|; the title gives its name,
    shape and finite range, and the block-averaging if there was one."""
    shown = tensor(X, REPORT_MAX_CELLS, Form(REPORT_DIGITS))
    finite = X[np.isfinite(X)]
    top = float(np.abs(finite).max()) if finite.size else 0.0
    trace = {"type": "heatmap", "z": shown["data"], "xaxis": f"x{suffix}",
             "yaxis": f"y{suffix}", "colorscale": DIVERGING, "zmin": -top or -1,
             "zmax": top or 1, "showscale": False, "name": name,
             "hovertemplate": f"{name}: %{{z}}<extra></extra>"}
    span = f"{finite.min():.3g} … {finite.max():.3g}" if finite.size else "no finite value"
    text = f"<b>{name}</b> {X.shape[0]}×{X.shape[1]}<br>{span}"
    if "downsampled_from" in shown:
        # small and short: six panels side by side leave each about 150 px for its title
        text += (f"<br><span style='font-size:10px'>{shown['shape'][0]}×"
                 f"{shown['shape'][1]} block means</span>")
    note = {"text": text, "x": centre, "y": 1.02, "xref": "paper", "yref": "paper",
            "xanchor": "center", "yanchor": "bottom", "showarrow": False}
    return trace, note
