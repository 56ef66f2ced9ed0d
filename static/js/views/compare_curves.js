// the comparison's curves: the cost, the accuracy (R² for regression) and ‖dW[l]‖ of every
// layer over the iterations, run A solid and run B dashed, one figure each, with a marker
// at the current iteration. the series are the two summaries' (served once per run).
import {react, baseLayout, stepMarker, seriesRange, describePlot, LAYER_COLOURS, r2BelowAxis} from "../plot_theme.js";
import {formatNumber} from "../tensors.js";
import {setHTML, setWholeNumbers, wholeNumberHTML} from "../dom.js";

const DASH = ["solid", "dash"];
// run B's purple is no layer's colour: in the ‖dW‖ figure beside, colour means the layer
const RUN_COLOURS = ["#222222", "#6a3d9a"];
const layerColour = (l) => LAYER_COLOURS[(l - 1) % LAYER_COLOURS.length];
// a cost that grows by more than this factor (a diverging run) gets a log axis, as the loss view's
const LOG_SPAN = 1e4;
const positive = (v) => (v !== null && v > 0 ? v : null);  // log axes cannot show 0
const steps = (n) => [...Array(n).keys()];
const scoreKey = (run) => (run.task === "regression" ? "train_r2" : "train_accuracy");
// the series' name in words: "train accuracy", "train R²"
const scoreName = (run) => scoreKey(run).replace("_", " ").replace("r2", "R²");

// runs: [{name: "A" | "B", label, run, summary}]
const FIGURES = {
  cost: (runs) => runs.map((r, k) => line(r, k, r.summary.cost, `J`, RUN_COLOURS[k])),
  score: (runs) => runs.map((r, k) => ({...line(r, k, r.summary[scoreKey(r.run)] || [],
    scoreName(r.run), RUN_COLOURS[k]), connectgaps: true})),
  flow: (runs) => runs.flatMap((r, k) => r.summary.layers.map((layer) => line(r, k,
    layer.dW_norm.map(positive), `‖dW[${layer.l}]‖`, layerColour(layer.l)))),
};

function line(r, k, y, what, color) {
  return {type: "scatter", mode: "lines", x: steps(y.length), y, name: `${r.name} (${r.label}): ${what}`,
    line: {color, width: 2, dash: DASH[k]},
    hovertemplate: `${r.name}, step %{x}: ${what} = %{y:.4g}<extra></extra>`};
}

function costAxis(traces) {
  const finite = traces.flatMap((t) => t.y).filter((v) => Number.isFinite(v) && v > 0);
  const low = Math.min(...finite), high = Math.max(...finite);
  if (!finite.length || high / low <= LOG_SPAN) {
    return {type: "linear", range: seriesRange(traces.map((t) => t.y), {zero: true}), title: {text: "cost J"}};
  }
  return {type: "log", range: seriesRange(traces.map((t) => t.y), {log: true}), exponentformat: "power",
    title: {text: "cost J (log)"}};
}

function axes(kind, traces, runs) {
  if (kind === "cost") return costAxis(traces);
  if (kind === "flow") {
    return {type: "log", exponentformat: "power", range: seriesRange(traces.map((t) => t.y), {log: true}),
      title: {text: "‖dW[l]‖ (log)"}};
  }
  const regression = runs.every((r) => r.run.task === "regression");
  const [low] = seriesRange(traces.map((t) => t.y));
  return {type: "linear", range: regression ? [Math.max(-1, Math.min(0, low)), 1.02] : [0, 1.02],
    title: {text: regression ? "train R²" : "train accuracy"}};
}

// the value of `series` at step t in words; past the run's end, says where it ended
// (missing: what a null means in this series)
function valueAt(series, t, missing = "not finite") {
  if (t >= series.length) return `— (ended at iteration ${series.length - 1})`;
  const v = series[t];
  return v === null || v === undefined ? missing : formatNumber(v, 3);
}

// what a null score means: a mini-batch run scores the whole set at some steps only (every
// k-th in training, and evenly spread ones on demand: run_session.js withScores), and a
// paused step's own (compare_view.js); while playing, the others have none
const unscored = (summary) => ((summary.evaluated_every || 1) > 1
  ? "not scored at this step (a mini-batch run scores the whole set at some steps)" : "not finite");

const CAPTIONS = {
  cost: (runs, t) => `cost J at iteration ${t}: ` + runs.map((r) => `${r.name} ${valueAt(r.summary.cost, t)}`).join(", "),
  score: (runs, t) => `${scoreName(runs[0].run)} at iteration ${t}: ` +
    runs.map((r) => `${r.name} ${valueAt(r.summary[scoreKey(r.run)] || [], t, unscored(r.summary))}`).join(", ") +
    belowTheAxis(runs),
  // (HTML: each layer's number after a swatch of its line's colour, the figure's key)
  flow: (runs, t) => `‖dW[l]‖ at iteration ${t}, a colour per layer, A solid, B dashed: ` +
    runs.map((r, k) => `${r.name} ` + r.summary.layers.map((s) =>
      `<span class="layer-key">${swatch(s.l, k)}[${s.l}]</span> ${wholeNumberHTML(valueAt(s.dW_norm, t))}`).join(" ")).join("; ") +
    neverLearns(runs) + `. ‖W[l]‖: ` + runs.map((r) => `${r.name} ` +
      r.summary.layers.map((s) => `[${s.l}] ${wholeNumberHTML(valueAt(s.W_norm, t))}`).join(" ")).join("; "),
};
const HTML_CAPTIONS = new Set(["flow"]);

// a short line in layer l's colour, as the flow figure draws it for run k (B's dashed)
const swatch = (l, k) => `<span class="layer-swatch" aria-hidden="true" ` +
  `style="border-color: ${layerColour(l)}; border-top-style: ${DASH[k] === "dash" ? "dashed" : "solid"}"></span>`;

// R² below −1 (a diverging run's falls to −2e209) leaves the plot, whose axis stops at −1:
// the caption says whose line, and how low it went
export function belowTheAxis(runs) {
  const low = runs.filter((r) => r.run.task === "regression").map((r) => {
    const least = r2BelowAxis(r.summary.train_r2 || []);
    return least ? `${r.name}'s falls to ${least}` : "";
  }).filter(Boolean);
  return low.length ? `; R² below −1 is off the plot: ${low.join(", ")}` : "";
}

// the layers whose ‖dW‖ is 0 at every iteration (a zero init's hidden layers) have no line
// on the log axis: the caption names them rather than leave them missing without a word
function neverLearns(runs) {
  const off = runs.map((r) => {
    const layers = r.summary.layers.filter((s) => s.dW_norm.length && s.dW_norm.every((v) => v === 0));
    return layers.length ? `${r.name} ${layers.map((s) => `[${s.l}]`).join(" ")}` : "";
  }).filter(Boolean);
  return off.length ? `. ‖dW‖ = 0 at every iteration, so no line on the log axis: ${off.join("; ")}` : "";
}

// {element, update(runs, t)}: the three figures under their captions
export function createCurves() {
  const figures = Object.keys(FIGURES).map((kind) => {
    const caption = document.createElement("p"), plot = document.createElement("div");
    caption.className = "caption";
    plot.className = "plot compare-plot";
    plot.dataset.testid = `compare-${kind}`;
    const box = document.createElement("div");
    box.className = "compare-figure";
    box.append(caption, plot);
    return {kind, caption, plot, box};
  });
  const element = document.createElement("div");
  element.className = "compare-curves";
  element.append(...figures.map((f) => f.box));
  let key = null, built = null;
  return {
    element,
    update(runs, t) {
      // the traces and their axes once per pair of runs: a step moves only the marker
      const pair = runs.map((r) => r.run.id).join(" ");
      if (pair !== key) {
        key = pair;
        built = figures.map((f) => { const traces = FIGURES[f.kind](runs); return {traces, axis: axes(f.kind, traces, runs)}; });
      }
      const last = Math.max(1, ...runs.map((r) => r.summary.cost.length - 1));
      return Promise.all(figures.map((f, k) => draw(f, built[k], runs, t, last)));
    },
  };
}

function draw(f, {traces, axis}, runs, t, last) {
  if (HTML_CAPTIONS.has(f.kind)) setHTML(f.caption, CAPTIONS[f.kind](runs, t));
  else setWholeNumbers(f.caption, CAPTIONS[f.kind](runs, t));
  describePlot(f.plot, `${f.caption.textContent}. Solid: run A (${runs[0].label}); dashed: run B (${runs[1].label}).`);
  return react(f.plot, traces, baseLayout({
    margin: {l: 56, r: 10, t: 8, b: 36},
    xaxis: {title: {text: "iteration", standoff: 2}, range: [0, last]},
    // the tick labels widen the left margin only: a log axis spanning 200 decades put a
    // label at its top that grew the top margin, which moved it away, which shrank the
    // margin again ("Too many auto-margin redraws")
    yaxis: {...axis, automargin: "left"},
    showlegend: false,
    shapes: [stepMarker(t)],
  }));
}
