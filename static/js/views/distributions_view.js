// distributions, TensorBoard style: for the selected layer, bands of percentiles of Z, A,
// dZ and dW over the iterations, from the histograms route (each tensor's exact
// percentiles at evenly spread steps, beside counts over fixed bins). the darkest band is the middle 38 %, the palest the full
// range. until the histograms arrive (or without them) it draws the summary instead: Z and
// A's min, mean ± std and max, and the norms of db and dW.
// the four panels are four Plotly figures laid over one another, each with its axes where
// one figure's 2 × 2 grid puts them: a layer change redraws all four, and the page may paint
// between two (as one figure, 40 to 100 ms of the page's thread at once)
import {react, baseLayout, stepMarker, seriesRange, describePlot} from "../plot_theme.js";
import {formatNumber} from "../tensors.js";
import {giveWay} from "../task_slices.js";
import {isPhone} from "../dom.js";

const TENSORS = ["Z", "A", "dZ", "dW"];
// TensorBoard's percentiles: the normal distribution's 0, ±1.5σ, ±σ, ±σ/2 and median
const PERCENTILES = [0, 6.68, 15.87, 30.85, 50, 69.15, 84.13, 93.32, 100];
const BAND_ALPHA = [0.15, 0.25, 0.35, 0.5];
// the 2 × 2 grid's gaps, each a fraction of a cell, as Plotly's layout.grid takes them
const GRID_GAP = {x: 0.15, y: 0.3};
// the left margin, and where a wider one holds tick labels such as "1.5×10²⁹⁹", the gap
// between the columns, where the right panels' labels stand, widened alike
const NARROW_MARGIN = 50, WIDE_GAP_X = 0.34;
let container = null, figures = null, cache = null;

// percentile q of counts over bins whose inner edges are `edges` (outer bins clamp)
function percentile(counts, edges, q) {
  const total = counts.reduce((s, c) => s + c, 0);
  if (!total) return null;
  const lo = (b) => edges[Math.max(0, b - 1)], hi = (b) => edges[Math.min(edges.length - 1, b)];
  const target = (q / 100) * total;
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    if (counts[b] && seen + counts[b] >= target) return lo(b) + ((target - seen) / counts[b]) * (hi(b) - lo(b));
    seen += counts[b];
  }
  return hi(counts.length - 1);
}

// the exact [min, max] of tensor `name` at each histogram step: served with the
// histograms, or (an older server) the summary's, which has them for Z and A only
function exactRanges(h, summary, l, name) {
  const served = h.layers[l - 1][`${name}_range`], stats = summary.layers[l - 1];
  if (served) return served;
  if (!stats[`${name}_min`]) return null;
  return h.steps.map((t) => [stats[`${name}_min`][t], stats[`${name}_max`][t]]);
}

// percentile value v held inside the tensor's exact range [low, high]: the bins are a
// quarter decade wide, and reading one as evenly filled would spread an all-zero tensor
// over the bin next to 0, a band of values that no entry has
function within(v, range) {
  if (v === null || !range || !Number.isFinite(range[0]) || !Number.isFinite(range[1])) return v;
  return Math.min(range[1], Math.max(range[0], v));
}

// percentile q (of PERCENTILES) at every histogram step: the tensor's exact one where the
// server sends them, else read from the bins, which end at ±1000 (a diverging gradient's
// percentiles would sit flat there) and are a quarter decade wide
function percentileSeries(h, layer, name, ranges) {
  const exact = layer[`${name}_percentiles`], columns = h.percentiles || [];
  return PERCENTILES.map((q) => {
    const k = columns.indexOf(q);
    if (exact && k >= 0) return exact.map((values) => values[k]);
    return layer[name].map((counts, s) => within(percentile(counts, h.edges, q), ranges && ranges[s]));
  });
}

// panels: [{title, x, bands: [[low, high], ...] palest first, mid}]; the exact extremes
// are the 0th and 100th percentiles
function histogramPanels(h, summary, l) {
  const layer = h.layers[l - 1];
  return TENSORS.map((name) => {
    const ranges = exactRanges(h, summary, l, name);
    const p = percentileSeries(h, layer, name, ranges);
    if (ranges) {
      p[0] = ranges.map((r) => r[0]);
      p[8] = ranges.map((r) => r[1]);
    }
    // gradients are mostly near 0 with rare large entries: their extremes would squash
    // every other band flat, so the axis fits the inner bands and clips the palest
    return {title: `${name}[${l}]`, x: h.steps, nonFinite: layer[`${name}_non_finite`] || null,
      bands: [0, 1, 2, 3].map((b) => [p[b], p[8 - b]]), mid: p[4], midName: "median", clipOuter: name.startsWith("d")};
  });
}

function statPanels(summary, l) {
  const s = summary.layers[l - 1], x = [...Array(summary.cost.length).keys()];
  const spread = (name) => {
    const mean = s[`${name}_mean`], std = s[`${name}_std`];
    return {title: `${name}[${l}]: min, mean ± std, max`, x, mid: mean, midName: "mean", bands: [[s[`${name}_min`], s[`${name}_max`]],
      [mean.map((m, t) => m - std[t]), mean.map((m, t) => m + std[t])]]};
  };
  return [spread("Z"), spread("A"), {title: `‖db[${l}]‖`, x, bands: [], mid: s.db_norm, midName: "="},
    {title: `‖dW[${l}]‖`, x, bands: [], mid: s.dW_norm, midName: "="}];
}

function panelTraces(panel) {
  const out = [];
  panel.bands.forEach(([low, high], b) => {
    const line = {width: 0, color: "#0072B2"};
    out.push({type: "scatter", mode: "lines", x: panel.x, y: low, line, hoverinfo: "skip", showlegend: false});
    out.push({type: "scatter", mode: "lines", x: panel.x, y: high, line, fill: "tonexty", hoverinfo: "skip",
      fillcolor: `rgba(0,114,178,${BAND_ALPHA[b + BAND_ALPHA.length - panel.bands.length]})`, showlegend: false});
  });
  out.push({type: "scatter", mode: "lines", x: panel.x, y: panel.mid, line: {color: "#053061", width: 1.5},
    hovertemplate: `step %{x}: ${panel.title.split(":")[0]} middle = %{y:.3g}<extra></extra>`, showlegend: false});
  return out;
}

// the y range of a panel, and whether the palest band (binned extremes) sticks out of it
function yRange(panel) {
  const log = !panel.bands.length;
  if (!panel.clipOuter) return {range: seriesRange([panel.mid, ...panel.bands.flat()], {log}), clipped: false};
  const range = seriesRange([panel.mid, ...panel.bands.slice(1).flat()], {pad: 0.3});
  const clipped = panel.bands[0].flat().some((v) => v !== null && (v < range[0] || v > range[1]));
  return {range, clipped};
}

// cell k's [start, end] of the two along one axis, as layout.grid computes it
function cellDomain(k, gap) {
  const step = 1 / (2 - gap);
  return [k * step, k * step + step * (1 - gap)];
}

// panel k's figure: Z, A on the top row, dZ, dW below; the figures above the first are
// see-through, so that its paper is the background of all four
function panelLayout(frame, panel, k, left) {
  const y = yRange(panel), x = panel.x;
  // a phone's panels are 170 px wide: the long note would run into the next panel's title
  const gap = left > NARROW_MARGIN ? WIDE_GAP_X : GRID_GAP.x;
  // the wide gap leaves the right panels' titles less room
  const clipped = isPhone() || gap === WIDE_GAP_X ? "clipped" : "palest band clipped";
  const note = y.clipped ? ` <span style="font-weight:normal">(${clipped})</span>` : "";
  // entries that no band can draw, said inside the plot, in its top left corner (the
  // title's line has no room beside "palest band clipped")
  const missing = leftOut(frame, panel);
  const inside = missing ? [{text: missing, showarrow: false, xref: "x domain", yref: "y domain", x: 0.01, y: 0.99,
    xanchor: "left", yanchor: "top", bgcolor: "rgba(255,255,255,0.85)", font: {color: "#B2182B"}}] : [];
  return baseLayout({margin: {l: left, r: 10, t: 24, b: 30}, ...(k ? {paper_bgcolor: "rgba(0,0,0,0)"} : {}),
    annotations: [{text: `<b>${panel.title}</b>${note}`, showarrow: false, xref: "x domain", yref: "y domain",
      x: 0, y: 1.02, xanchor: "left", yanchor: "bottom"}, ...inside],
    shapes: [{...stepMarker(frame.t), yref: "y domain"}],
    // the tick labels stay inside the figure: Plotly need not measure each one to hide those
    // that would not (its default, "hide past div"), which took a quarter of a layer change
    xaxis: {domain: cellDomain(k % 2, gap), range: [x[0], Math.max(x[x.length - 1], x[0] + 1)],
      ticklabeloverflow: "allow"},
    yaxis: {domain: cellDomain(1 - Math.floor(k / 2), GRID_GAP.y), exponentformat: "power",
      type: panel.bands.length ? "linear" : "log", range: y.range, ticklabeloverflow: "allow"}});
}

// the left margin of all four panels (one, so that their plots stay in line): wider where
// a linear axis reaches 1e5 or more, or stays within ±0.01, whose tick labels read
// "−2.5×10⁸³" or "−5×10⁻⁴"
function leftMargin(panels) {
  const wide = panels.some((p) => {
    if (!p.bands.length) return false;
    const top = Math.max(...yRange(p).range.map(Math.abs));
    return top >= 1e5 || (top > 0 && top < 0.01);
  });
  return wide ? 68 : NARROW_MARGIN;
}

// the index of the histogram step shown at iteration t: the last at or before it
const shownAt = (steps, t) => Math.max(0, steps.findLastIndex((s) => s <= t));

// the entries of a panel's tensor that are not finite at the histogram step shown (the
// engine counts them apart: no band can draw them), in words; "" where there are none
function leftOut(frame, panel) {
  if (!panel.nonFinite) return "";
  const k = shownAt(panel.x, frame.t), n = panel.nonFinite[k];
  return n ? `${n} not finite${panel.x[k] === frame.t ? "" : ` at ${panel.x[k]}`}` : "";
}

const valueText = (v) => (v === null || v === undefined ? "—" : Number.isFinite(v) ? formatNumber(v, 3) : "not finite");

// the plot in words: each panel's middle and full range at the last drawn step at or
// before iteration t (the histograms are taken at evenly spread steps)
function gist(frame, panels) {
  const x = panels[0].x, k = shownAt(x, frame.t);
  const at = x[k] === frame.t ? "" : ` (last histogram: iteration ${x[k]})`;
  const words = panels.map((p) => `${p.title.split(":")[0]} ${p.midName} ${valueText(p.mid[k])}` +
    (p.bands.length ? `, from ${valueText(p.bands[0][0][k])} to ${valueText(p.bands[0][1][k])}` : "") +
    (p.nonFinite && p.nonFinite[k] ? ` (${p.nonFinite[k]} entries not finite, left out)` : ""));
  return `Distributions of layer ${frame.layer} over the iterations. At iteration ${frame.t}${at}: ${words.join("; ")}.`;
}

// what the panels draw from (step_renderer.js redraws them when one changes)
export const inputs = (frame) => [frame.summary, frame.histograms, frame.layer, frame.t];

export async function update(frame) {
  const key = `${frame.run.id}:${frame.layer}:${Boolean(frame.histograms)}`;
  if (!cache || cache.key !== key) {
    cache = {key, panels: frame.histograms ? histogramPanels(frame.histograms, frame.summary, frame.layer)
      : statPanels(frame.summary, frame.layer)};
    cache.traces = cache.panels.map(panelTraces);
    cache.left = leftMargin(cache.panels);
  }
  describePlot(container, gist(frame, cache.panels));
  for (const [k, panel] of cache.panels.entries()) {
    if (k) await giveWay();
    await react(figures[k], cache.traces[k], panelLayout(frame, panel, k, cache.left));
  }
}

export function render(element, frame) {
  container = element;
  figures = TENSORS.map(() => Object.assign(document.createElement("div"), {className: "dist-panel"}));
  container.replaceChildren(...figures);
  return update(frame);
}
