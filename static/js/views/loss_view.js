// loss and accuracy: the cost J of every step, train and test accuracy (R² for regression),
// and a marker at the current step. the series come from the summary, once per run.
import {react, baseLayout, stepMarker, seriesRange, LAYER_COLOURS} from "../plot_theme.js";
import {formatNumber} from "../tensors.js";

let plot = null, caption = null, traces = null, runId = null, ranges = null;

const steps = (n) => [...Array(n).keys()];

// mini-batch runs measure accuracy every few steps; drop the gaps so the lines connect
function measured(series) {
  const x = [], y = [];
  series.forEach((v, t) => { if (v !== null && v !== undefined) { x.push(t); y.push(v); } });
  return {x, y};
}

function buildTraces(summary, task) {
  const x = steps(summary.cost.length);
  const regression = task === "regression";
  const metric = regression ? ["train_r2", "test_r2"] : ["train_accuracy", "test_accuracy"];
  const label = regression ? "R²" : "accuracy";
  return [
    {type: "scatter", mode: "lines", name: "cost J (batch)", x, y: summary.cost,
      line: {color: "#222", width: 2}, hovertemplate: "step %{x}: J = %{y:.5g}<extra></extra>"},
    ...metric.map((key, k) => ({type: "scatter", mode: "lines", yaxis: "y2",
      name: `${k ? "test" : "train"} ${label}`, ...measured(summary[key] || []),
      line: {color: LAYER_COLOURS[k], width: 2, dash: k ? "dash" : "solid"},
      hovertemplate: `step %{x}: ${k ? "test" : "train"} ${label} = %{y:.4f}<extra></extra>`})),
  ];
}

function valueAt(series, t) {
  for (let s = t; s >= 0; s--) if (series && series[s] !== null && series[s] !== undefined) return series[s];
  return null;
}

function title(frame) {
  const {summary, t, run} = frame;
  const regression = run.task === "regression";
  const train = valueAt(summary[regression ? "train_r2" : "train_accuracy"], t);
  const test = valueAt(summary[regression ? "test_r2" : "test_accuracy"], t);
  const name = regression ? "R²" : "accuracy";
  return `iteration ${t}: J = ${formatNumber(summary.cost[t])}, train ${name} ${formatNumber(train, 3)}, test ${name} ${formatNumber(test, 3)}`;
}

export function update(frame) {
  if (frame.run.id !== runId) {
    runId = frame.run.id;
    traces = buildTraces(frame.summary, frame.run.task);
    const regression = frame.run.task === "regression", s = frame.summary;
    ranges = {x: [0, Math.max(1, s.cost.length - 1)], y: seriesRange([s.cost], {zero: true}),
      y2: regression ? seriesRange([s.train_r2, s.test_r2]) : [0, 1.02]};
  }
  caption.textContent = title(frame);
  const regression = frame.run.task === "regression";
  // the "you are here" dot is a shape: moving it needs no recalculation of the traces
  const dot = {type: "circle", xref: "x", yref: "y", xsizemode: "pixel", ysizemode: "pixel",
    xanchor: frame.t, yanchor: frame.summary.cost[frame.t] ?? 0, x0: -6, x1: 6, y0: -6, y1: 6,
    fillcolor: "#D55E00", line: {color: "#fff", width: 1}};
  return react(plot, traces, baseLayout({
    margin: {l: 52, r: 52, t: 24, b: 40},
    xaxis: {title: {text: "iteration"}, range: ranges.x},
    yaxis: {title: {text: "cost J"}, range: ranges.y},
    yaxis2: {title: {text: regression ? "R²" : "accuracy"}, overlaying: "y", side: "right",
      range: ranges.y2, dtick: regression ? undefined : 0.2, showgrid: false},
    legend: {orientation: "h", y: 1.01, x: 1, xanchor: "right", yanchor: "bottom"},
    shapes: [stepMarker(frame.t), dot],
  }));
}

export function render(element, frame) {
  caption = document.createElement("p");
  caption.className = "caption";
  plot = document.createElement("div");
  plot.className = "plot";
  element.replaceChildren(caption, plot);
  return update(frame);
}
