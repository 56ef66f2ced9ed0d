// network diagram: neurons coloured by one example's A (forward) or dZ (backward), edges
// by W in forward, by dW in backward and by the applied update ΔW in the update phase.
// the example's values are the engine's, served with example=i (step_frame.js).
// layers the current phase has not reached stay grey. neurons and edges are drawn on a
// canvas under the Plotly figure (see tensor_image.js for why); labels are annotations;
// the figure's aria-label carries the drawn values as text.
import {react, baseLayout, INACTIVE, divergingColour, fontSize} from "../plot_theme.js";
import {formatNumber} from "../tensors.js";
import {underlay} from "../tensor_image.js";
import {pointAt} from "../tooltip.js";

const MAX_SHOWN = 10;  // neurons drawn per layer; wider layers show "+N more"
const DIAGRAM_WIDTH = 0.86;  // of the figure; the colour legend takes the rest
const TOP = 0.84, BOTTOM = 0.06;  // vertical band of the neurons, in paper units
let container = null, nodes = [];  // nodes: [{x, y, text}] in paper units, for hover

const shown = (n) => Math.min(n, MAX_SHOWN);

function position(dims, l, i) {
  const tallest = shown(Math.max(...dims)), n = shown(dims[l]);
  const step = (TOP - BOTTOM) / Math.max(tallest, 2);
  return {x: ((l + 0.5) / dims.length) * DIAGRAM_WIDTH, y: (TOP + BOTTOM) / 2 + ((n - 1) / 2 - i) * step};
}

function edgeSource(frame, l) {
  const {kind, l: at} = frame.phase, p = frame.params[l - 1];
  if (kind === "update") return {tensor: p.updateW, name: "ΔW"};
  if (kind === "backward") return l >= at ? {tensor: p.dW, name: "dW"} : null;
  return kind === "cost" || l <= at ? {tensor: p.W, name: "W"} : null;
}

function nodeValues(frame, l) {
  const {kind, l: at} = frame.phase, ex = frame.example;
  if (kind === "backward") return l >= at && l > 0 ? {v: ex.dZ[l], name: "dZ"} : null;
  if (kind === "forward" && l > at) return null;
  return {v: ex.A[l], name: l === 0 ? "X" : "A"};
}

// the largest finite |value|: the colour range (non-finite values are drawn grey)
const maxAbs = (values) => Math.max(1e-12, ...values.filter(Number.isFinite).map(Math.abs));

// a JSON null is a non-finite value: NaN, which every colour and width below marks
const finiteOrNaN = (v) => (v === null ? NaN : v);

function drawEdges(ctx, frame, px) {
  const dims = frame.run.dims;
  for (let l = 1; l < dims.length; l++) {
    const source = edgeSource(frame, l), top = source ? maxAbs(source.tensor.data.flat()) : 1;
    for (let i = 0; i < shown(dims[l]); i++) {
      for (let k = 0; k < shown(dims[l - 1]); k++) {
        const v = source ? finiteOrNaN(source.tensor.data[i][k]) / top : 0;
        const a = px(position(dims, l - 1, k)), b = px(position(dims, l, i));
        ctx.strokeStyle = source ? divergingColour(v) : INACTIVE;
        ctx.lineWidth = !source ? 0.6 : Number.isFinite(v) ? 0.6 + 3.4 * Math.abs(v) : 2;
        ctx.beginPath();
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
        ctx.stroke();
      }
    }
  }
}

// a unit that this step's dropout mask D[l] switched off for the example: dashed, crossed
function dropped(frame, l, i) {
  const masks = frame.example.masks;
  return Boolean(masks && masks[l] && masks[l][i] === 0);
}

function drawNode(ctx, c, radius, fill, stroke, off) {
  ctx.fillStyle = fill;
  ctx.strokeStyle = stroke;
  ctx.lineWidth = 1;
  ctx.setLineDash(off ? [3, 2] : []);
  ctx.beginPath();
  ctx.arc(c.x, c.y, radius, 0, 2 * Math.PI);
  ctx.fill();
  ctx.stroke();
  ctx.setLineDash([]);
  if (!off) return;
  const r = radius * 0.6;
  ctx.beginPath();
  ctx.moveTo(c.x - r, c.y - r); ctx.lineTo(c.x + r, c.y + r);
  ctx.moveTo(c.x + r, c.y - r); ctx.lineTo(c.x - r, c.y + r);
  ctx.stroke();
}

function nodeText(frame, s, l, i, off) {
  if (!s) return `layer ${l}, unit ${i}: not computed yet in this phase`;
  const value = `${s.name}[${l}]${i} = ${formatNumber(s.v[i], 6)} (example ${frame.example.index})`;
  return off ? `${value}\ndropped: D[${l}]${i} = 0 for this example in this iteration` : value;
}

function drawNodes(ctx, frame, px, radius) {
  const dims = frame.run.dims, values = dims.map((_, l) => nodeValues(frame, l));
  const top = maxAbs(values.filter(Boolean).flatMap((s) => s.v));
  nodes = [];
  dims.forEach((n, l) => {
    for (let i = 0; i < shown(n); i++) {
      const p = position(dims, l, i), s = values[l], off = Boolean(s) && dropped(frame, l, i);
      drawNode(ctx, px(p), radius, s ? divergingColour(s.v[i] / top) : "#eeeeee",
        s ? "#333" : "#aaa", off);
      nodes.push({...p, text: nodeText(frame, s, l, i, off)});
    }
  });
  return top;
}

// whether the diagram shows a value that is not a finite number (a diverged step)
function showsNonFinite(frame) {
  const dims = frame.run.dims, cut = (rows) => rows.slice(0, MAX_SHOWN).map((r) => r.slice(0, MAX_SHOWN));
  const nodesBad = dims.some((_, l) => {
    const s = nodeValues(frame, l);
    return s && s.v.slice(0, MAX_SHOWN).some((v) => !Number.isFinite(v));
  });
  return nodesBad || dims.slice(1).some((_, k) => {
    const source = edgeSource(frame, k + 1);
    return source && cut(source.tensor.data).flat().some((v) => !Number.isFinite(v));
  });
}

// the colour key of the neurons, with its range: text on the canvas, so that a step
// change leaves the Plotly layout as it was
function drawLegend(ctx, w, h, top, name) {
  const x = w * (DIAGRAM_WIDTH + 0.04), y0 = h * (1 - TOP), y1 = h * (1 - BOTTOM);
  for (let y = y0; y < y1; y++) {
    ctx.fillStyle = divergingColour(1 - (2 * (y - y0)) / (y1 - y0));
    ctx.fillRect(x, y, 14, 1.5);
  }
  ctx.strokeStyle = "#888";
  ctx.strokeRect(x, y0, 14, y1 - y0);
  ctx.fillStyle = "#222";
  ctx.font = `${fontSize()}px system-ui, sans-serif`;
  ctx.textBaseline = "bottom";
  ctx.fillText(`${name} ${formatNumber(top, 2)}`, x - 4, y0 - 3);
  ctx.textBaseline = "top";
  ctx.fillText(`−${formatNumber(top, 2)}`, x - 4, y1 + 3);
}

// the key under the panel title; with dropout it also explains the crossed units
function showKey(frame) {
  const key = document.getElementById("network-key");
  if (!key) return;
  const bad = showsNonFinite(frame);
  const {wanted, index, choices} = frame.example;
  key.textContent = "neurons: A of this example (forward), dZ (backward); edges: W, dW, ΔW" +
    (wanted !== index && choices.length ? `; example ${wanted} is not in this step's batch, so its first is shown` : "") +
    (frame.example.masks ? "; ✕: unit dropped for this example (D = 0)" : "") +
    (bad ? "; grey: not a finite number (NaN or ±∞)" : "");
}

// the cost under the output layer's lowest neuron, on a white box over the edges
function drawCost(ctx, frame, px, radius) {
  const dims = frame.run.dims, L = dims.length - 1, p = px(position(dims, L, shown(dims[L]) - 1));
  const text = `J = ${formatNumber(frame.cost)}`, y = p.y + radius + 4;
  ctx.font = `bold ${fontSize() + 1}px system-ui, sans-serif`;
  const width = ctx.measureText(text).width;
  ctx.fillStyle = "rgba(255,255,255,0.9)";
  ctx.fillRect(p.x - width / 2 - 3, y, width + 6, fontSize() + 5);
  ctx.fillStyle = "#222";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.fillText(text, p.x, y + 2);
  ctx.textAlign = "left";
}

// labels shrink when many layers share the width (large text, deep networks)
function labelSize(frame, w) {
  const spacing = (DIAGRAM_WIDTH * w) / frame.run.dims.length;
  return Math.max(9, Math.min(fontSize(), Math.floor(spacing / 6.2)));
}

function annotations(frame, w) {
  const {dims, config} = frame.run, font = {size: labelSize(frame, w)};
  // xanchor "auto" would left-align labels in the left third of the paper: centre them
  const notes = dims.map((n, l) => ({x: position(dims, l, 0).x, y: 0.99, xref: "paper", yref: "paper",
    xanchor: "center", yanchor: "top", showarrow: false, font,
    text: l === 0 ? `X = A[0]<br>${n} inputs` : `layer ${l}<br>${config.activations[l - 1]} · ${n}`}));
  dims.forEach((n, l) => {
    if (n > MAX_SHOWN) notes.push({x: position(dims, l, 0).x, y: 0.0, xref: "paper", yref: "paper",
      xanchor: "center", yanchor: "bottom", showarrow: false, font, text: `+${n - MAX_SHOWN} more`});
  });
  return notes;
}

// the band behind the layers the current phase works on
function drawHighlight(ctx, frame, w, h) {
  const {kind, l} = frame.phase, L = frame.run.L, dims = frame.run.dims;
  const cols = kind === "forward" || kind === "backward" ? [l - 1, l] : kind === "cost" ? [L, L] : [0, L];
  const half = (0.4 / dims.length) * DIAGRAM_WIDTH;
  const x0 = position(dims, cols[0], 0).x - half, x1 = position(dims, cols[1], 0).x + half;
  ctx.fillStyle = "#fff3c4";
  ctx.fillRect(x0 * w, 0, (x1 - x0) * w, h);
}

// the example control offers this step's batch only (all of the training set in full-batch
// training), so that no example=i request can be refused; rebuilt when the batch changes
let choiceKey = null;

function syncExampleChoice(frame) {
  const select = document.getElementById("example");
  if (!select || select.tagName !== "SELECT") return;
  const {choices, index} = frame.example;
  const key = `${frame.run.id}:${frame.run.config.batch_size === null ? "all" : frame.t}`;
  if (key !== choiceKey) {
    choiceKey = key;
    const options = document.createDocumentFragment();
    for (const i of choices) options.append(new Option(String(i), String(i)));
    select.replaceChildren(options);
  }
  select.value = String(index);
}

// the drawn values as text: "A[1] = 0.12, -0.5, …" per layer, for screen readers and tests
function valuesText(frame) {
  const dims = frame.run.dims, parts = [];
  dims.forEach((n, l) => {
    const s = nodeValues(frame, l);
    if (!s) return;
    const shownValues = s.v.slice(0, MAX_SHOWN).map((v) => formatNumber(v, 6)).join(", ");
    parts.push(`${s.name}${l ? `[${l}]` : ""} = ${shownValues}${n > MAX_SHOWN ? ` (+${n - MAX_SHOWN} more)` : ""}`);
  });
  return `Network diagram, iteration ${frame.t}, example ${frame.example.index}: ${parts.join("; ")}`;
}

export function update(frame) {
  syncExampleChoice(frame);
  container.setAttribute("aria-label", valuesText(frame));
  const w = container.clientWidth, h = container.clientHeight;
  const radius = Math.max(6, Math.min(11, ((TOP - BOTTOM) * h) / (2.6 * MAX_SHOWN)));
  const px = (p) => ({x: p.x * w, y: (1 - p.y) * h});
  const ctx = underlay(container, {l: 0, t: 0, w, h});
  drawHighlight(ctx, frame, w, h);
  drawEdges(ctx, frame, px);
  const top = drawNodes(ctx, frame, px, radius);
  drawLegend(ctx, w, h, top, frame.phase.kind === "backward" ? "dZ" : "A");
  showKey(frame);
  if (frame.phase.kind === "cost") drawCost(ctx, frame, px, radius);
  return react(container, [], baseLayout({
    margin: {l: 0, r: 0, t: 0, b: 0}, dragmode: false, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    xaxis: {visible: false, range: [0, 1], fixedrange: true}, yaxis: {visible: false, range: [0, 1], fixedrange: true},
    annotations: annotations(frame, w),
  }));
}

function nearestNode(p) {
  const w = container.clientWidth, h = container.clientHeight;
  let best = null, bestD = 14 * 14;
  for (const n of nodes) {
    const d = ((n.x - p.x) * w) ** 2 + ((n.y - p.y) * h) ** 2;
    if (d < bestD) { best = n; bestD = d; }
  }
  return best && best.text;
}

export async function render(element, frame) {
  container = element;
  container.setAttribute("role", "figure");
  await update(frame);
  pointAt(container, nearestNode);
}
