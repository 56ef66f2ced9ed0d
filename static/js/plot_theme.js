// shared look of every Plotly view: colour scales, fonts, margins, config.

/* global Plotly */

import {toolbarKeys} from "./plot_toolbar.js";
import {formatNumber} from "./tensors.js";

// ColorBrewer RdBu (colour-blind safe), negative blue, zero white, positive red
export const DIVERGING = [
  [0.0, "#053061"], [0.1, "#2166ac"], [0.2, "#4393c3"], [0.3, "#92c5de"], [0.4, "#d1e5f0"],
  [0.5, "#f7f7f7"], [0.6, "#fddbc7"], [0.7, "#f4a582"], [0.8, "#d6604d"], [0.9, "#b2182b"],
  [1.0, "#67001f"],
];
// ColorBrewer PuOr for probabilities: class 0 purple, class 1 orange, 0.5 white
export const PROBABILITY = [
  [0.0, "#542788"], [0.25, "#b2abd2"], [0.5, "#f7f7f7"], [0.75, "#fdb863"], [1.0, "#b35806"],
];
// Okabe-Ito, safe for the common colour-vision deficiencies
export const CLASS_COLOURS = ["#542788", "#E69F00", "#009E73", "#56B4E9", "#D55E00",
  "#CC79A7", "#0072B2", "#F0E442", "#000000", "#999999"];
export const LAYER_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
  "#56B4E9", "#000000"];
export const INACTIVE = "#d0d0d0";
// text on the figures' white paper, each at least 4.5:1 (WCAG AA): ink for values and
// titles, muted for notes, pending for a tensor not computed yet (a fainter frame or a
// faded picture says "not yet"; its words stay readable)
export const TEXT = {ink: "#222222", muted: "#595959", pending: "#595959"};
// a cell or neuron whose value is not a finite number (NaN or ±∞; null in JSON): a mid
// grey, which no scale above uses, named in each view's legend
export const NON_FINITE = "#7f7f7f";

// the colour a value v in [-1, 1] gets on DIVERGING
export function divergingColour(v) {
  if (!Number.isFinite(v)) return NON_FINITE;
  const x = Math.min(1, Math.max(0, (v + 1) / 2));
  return DIVERGING[Math.round(x * 10)][1];
}

let big = false;
export const setBigFonts = (on) => { big = on; };
export const fontSize = () => (big ? 17 : 12);

// margins hold tick labels and axis titles, so they grow with the font (large text)
function scaledMargin(margin) {
  const k = fontSize() / 12;
  return Object.fromEntries(Object.entries(margin).map(([side, px]) => [side, Math.round(px * k)]));
}

export function baseLayout(extra = {}) {
  return {
    font: {family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: fontSize(),
      color: TEXT.ink},
    paper_bgcolor: "#fff",
    plot_bgcolor: "#fff",
    // a fixed uirevision keeps zoom and pan across Plotly.react updates
    uirevision: "keep",
    hoverlabel: {font: {size: fontSize() + 1}},
    ...extra,
    margin: scaledMargin(extra.margin || {l: 52, r: 12, t: 30, b: 40}),
  };
}

// a figure's text alternative: its gist in words, which changes with the step. role="img"
// makes the figure one picture to assistive technology, instead of a soup of tick labels
export function describePlot(element, text) {
  element.setAttribute("role", "img");
  if (element.getAttribute("aria-label") !== text) element.setAttribute("aria-label", text);
}

// nothing leaves the machine: no "send to cloud" or "edit in Chart Studio" buttons, no links
export const PLOT_CONFIG = {
  displaylogo: false,
  responsive: true,
  showSendToCloud: false,
  showEditInChartStudio: false,
  showLink: false,
  modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d", "sendDataToCloud"],
};

// Plotly names the first axis "x"/"xaxis", the k-th "x{k}"/"xaxis{k}"
export const axisSuffix = (k) => (k === 0 ? "" : String(k + 1));

// Plotly writes each axis's guessed type back into the layout; a new layout without it
// looks changed to Plotly.react, which then recalculates every trace. naming the type
// keeps a marker move a cheap redraw.
function withAxisTypes(layout) {
  for (const key of Object.keys(layout)) {
    if (/^[xy]axis\d*$/.test(key) && !layout[key].type) layout[key] = {...layout[key], type: "linear"};
  }
  if (!layout.xaxis) layout.xaxis = {type: "linear"};
  if (!layout.yaxis) layout.yaxis = {type: "linear"};
  return layout;
}

// what each figure last drew: a redraw with the same trace objects and an equal layout is
// skipped (views whose pictures live on canvases often change nothing Plotly draws)
const lastDrawn = new WeakMap();

export function react(container, traces, layout) {
  const text = JSON.stringify(layout), last = lastDrawn.get(container);
  if (last && last.text === text && last.traces.length === traces.length &&
      last.traces.every((t, k) => t === traces[k])) return Promise.resolve(container);
  lastDrawn.set(container, {text, traces: [...traces]});
  return Plotly.react(container, traces, withAxisTypes(layout), PLOT_CONFIG).then((drawn) => {
    toolbarKeys(container);
    return drawn;
  });
}

// a fixed axis range [low, high] holding every finite value of the series (log10 units on
// log axes). fixed ranges let a moved marker redraw without Plotly re-measuring the data.
export function seriesRange(seriesList, {log = false, zero = false, pad = 0.05} = {}) {
  let low = Infinity, high = -Infinity;
  for (const series of seriesList) {
    for (const v of series || []) {
      if (v === null || !Number.isFinite(v) || (log && v <= 0)) continue;
      const u = log ? Math.log10(v) : v;
      if (u < low) low = u;
      if (u > high) high = u;
    }
  }
  if (low === Infinity) return log ? [-8, 0] : [0, 1];
  if (zero && !log) low = Math.min(low, 0);
  const span = high - low || (log ? 1 : Math.abs(high) || 1);
  // a diverging series reaches 1e307: padded beyond the largest double, Plotly's ticks
  // there read "Infinity−NaN"
  const top = log ? MAX_LOG10 : Number.MAX_VALUE / 4;
  return [Math.max(-top, low - pad * span), Math.min(top, high + pad * span)];
}

const MAX_LOG10 = Math.floor(Math.log10(Number.MAX_VALUE));  // 308

// a vertical line at step t on the x axis `xref` (the "you are here" marker)
// the lowest finite R² of `values` where it falls below −1, the foot of an R² axis (a
// diverging run's reaches −2e209), in words with the sentence's minus sign, not a hyphen
// ("−2e209"); null where none does: the line stays on the plot
export function r2BelowAxis(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  const low = Math.min(...finite);
  return finite.length && low < -1 ? formatNumber(low, 2).replace("-", "−") : null;
}

export function stepMarker(t, xref = "x", yref = "paper") {
  return {type: "line", xref, yref: yref === "paper" ? "paper" : yref,
    x0: t, x1: t, y0: 0, y1: 1, line: {color: "#222", width: 1.5, dash: "dot"}};
}
