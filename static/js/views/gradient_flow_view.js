// gradient flow: ‖dW[l]‖ of every layer over the iterations (log scale), this step's
// ‖dW[l]‖ and update ratio ‖ΔW[l]‖/‖W[l]‖ as bars on a log scale, and plain flags
// (gradient_flags.js): symmetry, vanishing or exploding gradients. the bars are HTML, so a
// step change moves only the plot's marker and Plotly recalculates nothing.
import {react, baseLayout, stepMarker, seriesRange, describePlot, LAYER_COLOURS} from "../plot_theme.js";
import {formatNumber} from "../tensors.js";
import {isPhone} from "../dom.js";
import {flagLines, ratioText, VANISHING, RELATIVE} from "../gradient_flags.js";

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

// a bar on the log scale; its text: the value, or "—" and why there is none
function bar(value, kind, text) {
  const [lo, hi] = BAR_DECADES, v = positive(value);
  const share = v === null ? 0 : (Math.min(hi, Math.max(lo, Math.log10(v))) - lo) / (hi - lo);
  const row = document.createElement("div");
  row.className = `bar bar-${kind}`;
  const fill = document.createElement("span");
  fill.style.width = `${(100 * share).toFixed(1)}%`;
  const words = document.createElement("em");
  words.textContent = `${kind === "grad" ? "‖dW‖" : "‖ΔW‖/‖W‖"} ${text}`;
  row.append(fill, words);
  return row;
}

const normText = (g) => (Number.isFinite(g) ? formatNumber(g, 3) : "— (not finite)");

function showBars(frame) {
  const rows = frame.summary.layers.map((s) => {
    const group = document.createElement("div");
    group.className = "bar-group";
    // the layer's line colour: the bars are the plot's legend
    const name = document.createElement("b");
    // ‖W‖ beside the name: what weight decay shrinks (the L2 lesson compares it)
    name.textContent = `layer ${s.l}`;
    const weights = document.createElement("span");
    weights.className = "w-norm";
    weights.textContent = ` · ‖W‖ ${normText(s.W_norm[frame.t])}`;
    name.style.borderLeft = `14px solid ${LAYER_COLOURS[(s.l - 1) % LAYER_COLOURS.length]}`;
    name.style.paddingLeft = "4px";
    group.append(name, weights, bar(s.dW_norm[frame.t], "grad", normText(s.dW_norm[frame.t])),
      bar(s.update_ratio[frame.t], "ratio", ratioText(s, frame.t)));
    return group;
  });
  const scale = document.createElement("div");
  scale.className = "bar-scale muted";
  scale.textContent = `iteration ${frame.t}, log scale 1e${BAR_DECADES[0]} … 1e${BAR_DECADES[1]}`;
  bars.replaceChildren(scale, ...rows);
}

function showFlags(frame) {
  flags.replaceChildren(...flagLines(frame).map(([kind, text]) => {
    const li = document.createElement("li");
    li.className = `flag flag-${kind}`;
    li.textContent = text;
    return li;
  }));
}

// the plot in words: each layer's ‖dW‖ at this step, and the largest and smallest
function gist(frame) {
  const norms = frame.summary.layers.map((s) => ({l: s.l, g: s.dW_norm[frame.t]}));
  const finite = norms.filter((n) => Number.isFinite(n.g)).sort((p, q) => p.g - q.g);
  const ends = finite.length > 1 ? ` (smallest in layer ${finite[0].l}, largest in layer ${finite[finite.length - 1].l})` : "";
  return `Gradient norms ‖dW[l]‖ over the iterations, log scale. At iteration ${frame.t}: ` +
    norms.map((n) => `‖dW[${n.l}]‖ = ${normText(n.g)}`).join(", ") + ends + ".";
}

// the layers whose ‖dW‖ is exactly 0 at this step have no point on the log axis: a note
// at the step's marker names them, rather than let their lines end without a word
function zeroHere(frame) {
  const zero = frame.summary.layers.filter((s) => s.dW_norm[frame.t] === 0).map((s) => `‖dW[${s.l}]‖`);
  if (!zero.length) return [];
  const right = frame.t > ranges.x[1] / 2;
  // a phone's plot is about 100 px wide: a name a line, or the note runs off the figure
  const perLine = isPhone() ? 1 : 3, lines = [];
  for (let k = 0; k < zero.length; k += perLine) lines.push(zero.slice(k, k + perLine).join(", "));
  return [{x: frame.t, xref: "x", yref: "paper", y: 1, yanchor: "top", xanchor: right ? "right" : "left",
    showarrow: false, bgcolor: "#fff", font: {size: 11},
    text: `${lines.join(",<br>")} = 0 here:<br>off the log axis`}];
}

// what the plot, bars and flags draw from (step_renderer.js redraws them when one changes)
export const inputs = (frame) => [frame.summary, frame.t];

export function update(frame) {
  if (frame.run.id !== runId) {
    runId = frame.run.id;
    series = seriesTraces(frame.summary);
    // the vanishing line stays in view: it is the reference the flags speak of. a run
    // whose every ‖dW‖ is 0 (a zero init) has nothing a log axis can show: whole decades
    // around the line, and a note that says why the plot is empty
    const empty = !series.some((s) => s.y.some((v) => v !== null));
    ranges = {x: [0, Math.max(1, frame.summary.cost.length - 1)], empty,
      y: empty ? [-9, 1] : seriesRange([...series.map((s) => s.y), [VANISHING]], {log: true})};
  }
  showBars(frame);
  showFlags(frame);
  describePlot(plot, gist(frame));
  return react(plot, series, baseLayout({
    margin: {l: 56, r: 10, t: 12, b: 40},
    xaxis: {title: {text: "iteration", standoff: 4}, range: ranges.x},
    yaxis: {type: "log", exponentformat: "power", range: ranges.y, title: {text: "‖dW[l]‖ (log)"}},
    showlegend: false,
    annotations: ranges.empty ? [{xref: "paper", yref: "paper", x: 0.5, y: 0.75, showarrow: false,
      text: "‖dW‖ = 0 at<br>every iteration,<br>in every layer:<br>no place for it<br>on a log axis"}]
      : zeroHere(frame),
    // the vanishing line in ink: orange is layer 2's line
    shapes: [stepMarker(frame.t), {type: "line", xref: "x domain", yref: "y", x0: 0, x1: 1,
      y0: VANISHING, y1: VANISHING, line: {color: "#555555", width: 1, dash: "dash"}}],
  }));
}

export function render(element, frame) {
  const caption = document.createElement("p");
  caption.className = "caption";
  caption.textContent = `‖dW[l]‖ of every layer over the iterations (colours as in the bars); ` +
    `dashed: ${VANISHING}, below which a gradient counts as vanishing, as it does below ` +
    `1/${RELATIVE} of the largest layer's ‖dW‖.`;
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
