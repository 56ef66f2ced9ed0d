// gradient flow: ‖dW[l]‖ of every layer over the iterations (log scale), this step's
// ‖dW[l]‖ and update ratio ‖ΔW[l]‖/‖W[l]‖ as bars on a log scale, and plain flags for
// vanishing or exploding gradients. the bars are HTML, so a step change moves only the
// plot's marker and Plotly recalculates nothing.
import {react, baseLayout, stepMarker, seriesRange, LAYER_COLOURS} from "../plot_theme.js";
import {formatNumber} from "../tensors.js";

export const VANISHING = 1e-7;
export const EXPLODING = 1e3;
// cs231n's rule of thumb: a healthy update changes W by about 1e-3 of its size per step
const RATIO_LOW = 1e-5, RATIO_HIGH = 1e-1;
const BAR_DECADES = [-9, 3];  // the bars' log10 range
let plot = null, bars = null, flags = null, series = null, runId = null, ranges = null;

const positive = (v) => (v !== null && v > 0 ? v : null);  // log axes cannot show 0

function seriesTraces(summary) {
  const x = [...Array(summary.cost.length).keys()];
  return summary.layers.map((layer, k) => ({type: "scatter", mode: "lines", x,
    y: layer.dW_norm.map(positive), name: `‖dW[${layer.l}]‖`,
    line: {color: LAYER_COLOURS[k % LAYER_COLOURS.length], width: 2},
    hovertemplate: `step %{x}: ‖dW[${layer.l}]‖ = %{y:.3g}<extra></extra>`}));
}

function bar(value, kind) {
  const [lo, hi] = BAR_DECADES, v = positive(value);
  const share = v === null ? 0 : (Math.min(hi, Math.max(lo, Math.log10(v))) - lo) / (hi - lo);
  const row = document.createElement("div");
  row.className = `bar bar-${kind}`;
  const fill = document.createElement("span");
  fill.style.width = `${(100 * share).toFixed(1)}%`;
  const text = document.createElement("em");
  text.textContent = `${kind === "grad" ? "‖dW‖" : "‖ΔW‖/‖W‖"} ${formatNumber(value, 3)}`;
  row.append(fill, text);
  return row;
}

function showBars(frame) {
  const rows = frame.summary.layers.map((s) => {
    const group = document.createElement("div");
    group.className = "bar-group";
    // the layer's line colour: the bars are the plot's legend
    const name = document.createElement("b");
    name.textContent = `layer ${s.l}`;
    name.style.borderLeft = `14px solid ${LAYER_COLOURS[(s.l - 1) % LAYER_COLOURS.length]}`;
    name.style.paddingLeft = "4px";
    group.append(name, bar(s.dW_norm[frame.t], "grad"), bar(s.update_ratio[frame.t], "ratio"));
    return group;
  });
  const scale = document.createElement("div");
  scale.className = "bar-scale muted";
  scale.textContent = `iteration ${frame.t}, log scale 1e${BAR_DECADES[0]} … 1e${BAR_DECADES[1]}`;
  bars.replaceChildren(scale, ...rows);
}

// a null norm is a divergence only when the run says so: a norm can overflow to ∞ while
// every entry of dW is still a finite number
function notFinite(frame, l) {
  const d = frame.run.diverged;
  if (d && frame.t >= d.step) return `layer ${l}: ‖dW‖ is not a finite number: training diverged at iteration ${d.step}`;
  return `layer ${l}: ‖dW‖ overflowed (too large for a float), though dW's entries are finite: an exploding gradient`;
}

function flagLines(frame) {
  const lines = [];
  for (const s of frame.summary.layers) {
    const g = s.dW_norm[frame.t], r = s.update_ratio[frame.t];
    if (g === null || !Number.isFinite(g)) lines.push(["bad", notFinite(frame, s.l)]);
    else if (g < VANISHING) lines.push(["warn", `layer ${s.l}: vanishing gradient, ‖dW‖ = ${formatNumber(g)} < ${VANISHING}: this layer barely learns`]);
    else if (g > EXPLODING) lines.push(["bad", `layer ${s.l}: exploding gradient, ‖dW‖ = ${formatNumber(g)} > ${EXPLODING}`]);
    if (r !== null && r > RATIO_HIGH) lines.push(["warn", `layer ${s.l}: this update changes W by ${formatNumber(100 * r, 2)} % — the learning rate may be too large`]);
    // a vanishing gradient already says the update is tiny
    else if (r !== null && r > 0 && r < RATIO_LOW && !(g < VANISHING)) {
      lines.push(["info", `layer ${s.l}: updates change W by only ${formatNumber(r)} of its size`]);
    }
  }
  return lines.length ? lines : [["ok", `iteration ${frame.t}: every layer's ‖dW‖ is between ${VANISHING} and ${EXPLODING}`]];
}

function showFlags(frame) {
  flags.replaceChildren(...flagLines(frame).map(([kind, text]) => {
    const li = document.createElement("li");
    li.className = `flag flag-${kind}`;
    li.textContent = text;
    return li;
  }));
}

export function update(frame) {
  if (frame.run.id !== runId) {
    runId = frame.run.id;
    series = seriesTraces(frame.summary);
    // the vanishing line stays in view: it is the reference the flags speak of
    ranges = {x: [0, Math.max(1, frame.summary.cost.length - 1)],
      y: seriesRange([...series.map((s) => s.y), [VANISHING]], {log: true})};
  }
  showBars(frame);
  showFlags(frame);
  return react(plot, series, baseLayout({
    margin: {l: 56, r: 10, t: 12, b: 40},
    xaxis: {title: {text: "iteration", standoff: 4}, range: ranges.x},
    yaxis: {type: "log", exponentformat: "power", range: ranges.y, title: {text: "‖dW[l]‖ (log)"}},
    showlegend: false,
    shapes: [stepMarker(frame.t), {type: "line", xref: "x domain", yref: "y", x0: 0, x1: 1,
      y0: VANISHING, y1: VANISHING, line: {color: "#D55E00", width: 1, dash: "dash"}}],
  }));
}

export function render(element, frame) {
  const caption = document.createElement("p");
  caption.className = "caption";
  caption.textContent = `‖dW[l]‖ of every layer over the iterations (colours as in the bars); ` +
    `dashed: ${VANISHING}, below which a gradient counts as vanishing`;
  const row = document.createElement("div");
  row.className = "flow-row";
  plot = document.createElement("div");
  plot.className = "plot";
  bars = document.createElement("div");
  bars.className = "bars";
  bars.dataset.testid = "gradient-bars";
  row.append(plot, bars);
  flags = document.createElement("ul");
  flags.className = "flags";
  flags.dataset.testid = "gradient-flags";
  element.replaceChildren(caption, row, flags);
  return update(frame);
}
