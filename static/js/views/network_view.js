/* global Plotly */
// network diagram: one example's path through the network, with the engine's values
// (served with example=i, step_frame.js). network_scene.js says what each phase shows
// (neurons: A forward, dZ backward; edges: W, dW, the update ΔW; grey: not reached yet);
// network_motion.js moves between scenes while the phases play. neurons and edges are
// drawn on a canvas under the Plotly figure (see tensor_image.js for why); labels are
// annotations; the figure's aria-label carries the drawn values as text.
import {react, baseLayout, divergingColour, fontSize} from "../plot_theme.js";
import {formatNumber} from "../tensors.js";
import {underlay} from "../tensor_image.js";
import {pointAt} from "../tooltip.js";
import {phaseKey, phaseList, phaseIndex} from "../phases.js";
import {MAX_SHOWN, DIAGRAM_WIDTH, TOP, BOTTOM, NOTED_BOTTOM, TOP_EDGES, position, nodeValues, scene,
  showsNonFinite, thinnedPairs, edgeSource, edgeTops, passEnd} from "./network_scene.js";
import {OWN_RANGES} from "../colour_scale.js";
import {createMotion, reducedMotion} from "./network_motion.js";

let container = null, nodes = [];  // nodes: [{at: {x, y}, text}], at in paper units, for hover
let painting = null;  // {frame, w, h, radius}: what paint() draws on

const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;

function drawEdges(ctx, edges) {
  for (const e of edges) {
    if (e.alpha <= 0) continue;
    ctx.globalAlpha = e.alpha;
    ctx.strokeStyle = rgb(e.rgb);
    ctx.lineWidth = e.width;
    ctx.beginPath();
    ctx.moveTo(e.a.x, e.a.y);
    ctx.lineTo(e.b.x, e.b.y);
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
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

function drawNodes(ctx, list, radius) {
  for (const n of list) drawNode(ctx, n.c, radius, rgb(n.rgb), n.stroke, n.off);
}

// backward's pulse: dots on their way from layer l to layer l-1
function drawPulses(ctx, dots) {
  ctx.fillStyle = "#D55E00";
  for (const d of dots) {
    ctx.beginPath();
    ctx.arc(d.x, d.y, 2.6, 0, 2 * Math.PI);
    ctx.fill();
  }
}

// what the moving layer's units show ("dA[2]", then "dZ[2]"), over its top unit
function drawTag(ctx, s, radius) {
  const {kind, l} = s.phase, top = kind === "update" ? null : s.nodes.find((n) => n.l === l && n.i === 0);
  const x = top ? top.c.x : (DIAGRAM_WIDTH / 2) * painting.w, y = top ? top.c.y - radius - 3 : painting.h * (1 - TOP) - 4;
  ctx.font = `bold ${fontSize()}px system-ui, sans-serif`;
  const width = ctx.measureText(s.tag).width;
  ctx.fillStyle = "rgba(255,255,255,0.9)";
  ctx.fillRect(x - width / 2 - 3, y - fontSize() - 3, width + 6, fontSize() + 4);
  ctx.fillStyle = "#b34700";
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(s.tag, x, y);
  ctx.textAlign = "left";
}

// the colour key of the neurons, with its range: text on the canvas, so that a step
// change leaves the Plotly layout as it was
const legendX = (w) => w * (DIAGRAM_WIDTH + 0.04);

function drawLegend(ctx, w, h, top, name) {
  const x = legendX(w), y0 = h * (1 - TOP), y1 = h * (1 - BOTTOM);
  for (let y = y0; y < y1; y++) {
    ctx.fillStyle = divergingColour(1 - (2 * (y - y0)) / (y1 - y0));
    ctx.fillRect(x, y, 14, 1.5);
  }
  ctx.strokeStyle = "#888";
  ctx.strokeRect(x, y0, 14, y1 - y0);
  ctx.fillStyle = "#222";
  ctx.font = `${fontSize()}px system-ui, sans-serif`;
  // on a narrow figure (a phone) the words end at its right edge rather than past it
  const left = (text) => Math.min(x - 4, w - ctx.measureText(text).width - 2);
  const high = formatNumber(top, 2), low = `−${formatNumber(top, 2)}`;
  ctx.textBaseline = "bottom";
  ctx.fillText(high, left(high), y0 - 3);
  ctx.textBaseline = "top";
  ctx.fillText(low, left(low), y1 + 3);
  // the name up the bar's left side, in the gap beside the diagram: above the bar, beside
  // its number ("A 1.6e137"), it ran into the output layer's name
  ctx.save();
  ctx.translate(x - 3, (y0 + y1) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(name, 0, 0);
  ctx.restore();
}

// what the edges show in this phase and their colour range, which the colour bar (the
// neurons') does not give: dW[2] = −0.003 at full colour beside a bar of ±2 read as −2
function edgeKey(frame) {
  const p = frame.phase, tops = edgeTops(frame, p);
  const layers = tops.flatMap((top, l) => (top === null ? [] : [l]));
  if (!layers.length) return "W, not used yet in this phase";
  // a range in words: a top of 0 is all 0, 0 where finite (a diverged step's grey edges),
  // or no finite value at all
  // (at phase q: the shared range is the whole pass's, layers not reached yet included)
  const some = (ls, test, q = p) => ls.some((l) =>
    edgeSource(frame, q, l).tensor.data.some((row) => row.some(test)));
  const range = (top, ls, q = p) => {
    if (top > 0) return `±${formatNumber(top, 2)}`;
    if (!some(ls, Number.isFinite, q)) return "no finite value";
    return some(ls, (v) => !Number.isFinite(v), q) ? "0 where finite, grey where not" : "all 0";
  };
  const name = edgeSource(frame, p, layers[0]).name;
  if (!OWN_RANGES.has(frame.scale)) {
    const end = passEnd(p, frame.run.L), passTops = edgeTops(frame, end);
    const pass = passTops.flatMap((top, l) => (top === null ? [] : [l]));
    return `${name}, one colour range for every layer: ${range(Math.max(...pass.map((l) => passTops[l])), pass, end)}`;
  }
  return `${name}, each layer its own colour range: ${layers.map((l) => range(tops[l], [l])).join(", ")}`;
}

// the key under the panel title; with dropout it also explains the crossed units
function showKey(frame) {
  const key = document.getElementById("network-key");
  if (!key) return;
  const bad = showsNonFinite(frame);
  const {wanted, index, choices} = frame.example;
  key.textContent = `neurons: A of this example (forward), dZ (backward), on the colour bar; edges: ${edgeKey(frame)}` +
    (wanted !== index && choices.length ? `; example ${wanted} is not in this step's batch: showing example ${index}, the batch's first` : "") +
    (frame.example.masks ? "; ✕: unit dropped for this example (D = 0)" : "") +
    (bad ? "; grey: not a finite number (NaN or ±∞)" : "") +
    zeroInitText(frame);
}

// while the summary's ‖W[l]‖ of every layer is 0 (a zero init's first screens show "all 0"
// everywhere, and the reason sits in a panel further down): what follows from the served
// numbers. every hidden unit then computes Z = b = 0 (no gradient reaches a hidden b while
// the W above it is 0), so the units of a hidden layer are identical; and where every
// ‖dW[l]‖ is 0 too, no W moves at this step
function zeroInitText(frame) {
  const layers = frame.summary && frame.summary.layers, t = frame.t;
  if (!layers || !layers.length || !layers.every((l) => l.W_norm[t] === 0)) return "";
  const hidden = layers.length > 1 ? ": the units of each hidden layer compute the same numbers" : "";
  const stuck = layers.every((l) => l.dW_norm[t] === 0) ? `${hidden ? "," : ":"} and no W gets a gradient (every ‖dW‖ = 0)` : "";
  return `; every W is all 0 at this iteration (a zero init)${hidden}${stuck}`;
}

// where the cost's box goes: under the output layer's lowest neuron, or lower, under the
// neurons of other columns that its box reaches (on a narrow figure it juts left over the
// last hidden layer's), above the notes on thinned edges at the foot, its right side at
// most at `right`. {x, y, clear}: clear is false when no such place is free of neurons
// (then it stands under the output neuron, or at the foot of the figure when even that
// has no room)
function costPlace(s, radius, width, tall, right) {
  const {frame, w, h} = painting, p = s.nodes.filter((n) => n.l === frame.run.L).at(-1).c;
  const notes = thinnedPairs(frame.run.dims).length > 0 ? h * 0.95 - 2.6 * labelSize(frame, w) : h;
  const x = Math.min(p.x, right - width / 2);
  const gap = radius + 4, first = p.y + gap, fits = (y) => y + tall <= notes;
  const reached = s.nodes.filter((n) => Math.abs(n.c.x - x) < width / 2 + 3 + gap);
  const free = (y) => fits(y) && reached.every((n) => n.c.y + gap <= y || n.c.y - gap >= y + tall);
  const y = [first, ...reached.map((n) => n.c.y + gap).filter((y) => y > first).sort((a, b) => a - b)].find(free);
  if (y !== undefined) return {x, y, clear: true};
  return {x, y: fits(first) ? first : h - tall - 2, clear: false};
}

// the cost on a white box over the edges, on one line, or on two ("J =" over the number),
// clear of the neurons and of the colour key's name up the bar's left side (drawLegend);
// where neither fits clear of both (a deep net's last hidden layer filling the height
// beside the output, in the presenter's large text), in letters up to 6 px smaller, then
// up to the bar's own edge, over the key's name rather than a neuron, then at 11 px. It
// fades in while the phases play (opacity 0..1)
function drawCost(ctx, s, radius, opacity) {
  const number = formatNumber(painting.frame.cost), key = legendX(painting.w) - 3;
  const box = (lines, right, size) => {
    ctx.font = `bold ${size}px system-ui, sans-serif`;
    const width = Math.max(...lines.map((line) => ctx.measureText(line).width)), tall = lines.length * size + 4;
    return {lines, width, tall, size, ...costPlace(s, radius, width, tall, right)};
  };
  const size = fontSize() + 1, one = [`J = ${number}`], two = ["J =", number];
  const clearOfKey = key - fontSize() - 6, smaller = [size - 2, size - 4, size - 6].filter((k) => k >= 12);
  const tries = [[one, clearOfKey, size], [two, clearOfKey, size],
    ...smaller.map((k) => [two, clearOfKey, k]), [one, key, size], [two, key, size], [two, clearOfKey, 11]];
  let b = null;
  for (const attempt of tries) {
    b = box(...attempt);
    if (b.clear) break;
  }
  if (!b.clear) b = box(two, key, size);  // over the key's name rather than a neuron
  // where it went, for tests/browser/test_network_cost.py: the box, the neurons' centres and
  // the left edge of the key's name, which it keeps clear of (once a picture: the fade
  // draws it again each frame)
  if (opacity >= 1 || !ctx.canvas.dataset.cost) {
    ctx.canvas.dataset.cost = JSON.stringify({box: [b.x - b.width / 2 - 3, b.y, b.x + b.width / 2 + 3, b.y + b.tall],
      size: b.size, key: key - fontSize(), radius, neurons: s.nodes.map((n) => [n.c.x, n.c.y])});
  }
  ctx.globalAlpha = opacity;
  ctx.font = `bold ${b.size}px system-ui, sans-serif`;
  ctx.fillStyle = "rgba(255,255,255,0.9)";
  ctx.fillRect(b.x - b.width / 2 - 3, b.y, b.width + 6, b.tall);
  ctx.fillStyle = "#222";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  b.lines.forEach((line, k) => ctx.fillText(line, b.x, b.y + 2 + k * b.size));
  ctx.textAlign = "left";
  ctx.globalAlpha = 1;
}

// a figure narrower than this (a phone) leaves the last column's name little room before
// the colour key's title
const NARROW_FIGURE = 420;

// labels shrink when many layers share the width (large text, deep networks): to the size
// at which each column's short name ("layer 4" over "relu") fits beside its neighbours
// (fitting's 0.6 em a character), so that a deep network projected keeps readable names;
// on a phone, to a sixth of the spacing, which keeps the last name clear of the key
// px between the centres of two neighbouring columns, in a figure w px wide
const columnSpacing = (dims, w) => (position(dims, 1, 0).x - position(dims, 0, 0).x) * w;

function labelSize(frame, w) {
  const {dims, config} = frame.run;
  const spacing = columnSpacing(dims, w);
  const longest = Math.max(`layer ${dims.length - 1}`.length, ...config.activations.map((a) => a.length));
  const fits = Math.floor((spacing - 6) / (0.6 * longest));
  const size = w < NARROW_FIGURE ? Math.min(fits, Math.floor(spacing / 6.2)) : fits;
  return Math.max(9, Math.min(fontSize(), size));
}

// the activations' names where a deep network leaves a column about 30 px (1024 px with a
// lesson open): "[3] σ" beside "[4] σ" rather than "[3] sigmoid[4] sigmoid"
const SHORT = {sigmoid: "σ", leaky_relu: "lrelu", softmax: "smax", linear: "lin"};

// where the notes on thinned edges stand (paper units, their foot), and a line's height in
// ems (Plotly's annotations)
const NOTE_Y = 0.05, LINE_HEIGHT = 1.3;

function annotations(frame, w, h, radius) {
  const {dims, config} = frame.run, font = {size: labelSize(frame, w)};
  // xanchor "auto" would left-align labels in the left third of the paper: centre them
  const at = (x, y, text, extra = {}) => ({x, y, xref: "paper", yref: "paper", xanchor: "center",
    yanchor: y > 0.5 ? "top" : "bottom", showarrow: false, font, text, ...extra});
  const fit = fitting(columnSpacing(dims, w), font.size);
  const names = fit(dims.map((n, l) => (l === 0
    ? [["X = A[0]", `${n} input${n === 1 ? "" : "s"}`], ["X", `${n} in`]]
    : [[`layer ${l}`, `${config.activations[l - 1]} · ${n}`], [`layer ${l}`, config.activations[l - 1]],
      [`[${l}]`, config.activations[l - 1]], [`[${l}]`, SHORT[config.activations[l - 1]] || config.activations[l - 1]]])));
  const notes = dims.map((n, l) => at(position(dims, l, 0).x, 0.99, names[l]));
  const cut = dims.flatMap((n, l) => (n > MAX_SHOWN ? [l] : []));
  fit(cut.map((l) => [[`+${dims[l] - MAX_SHOWN} more`], [`+${dims[l] - MAX_SHOWN}`]]))
    .forEach((text, k) => notes.push(at(position(dims, cut[k], 0).x, 0.0, text)));
  // between the two columns, under the edges it speaks of, above the "+n more" line (the
  // neurons leave room for it): two lines where that room holds two, else one, smaller
  // where it must (a short figure beside a tour strip), and none where even 9 px do not fit
  const pairs = thinnedPairs(dims);
  const plus = cut.length ? LINE_HEIGHT * font.size + 1 : NOTE_Y * h;
  const room = NOTED_BOTTOM * h - radius - plus - 2;
  const twoLines = room >= 2 * LINE_HEIGHT * font.size;
  const size = Math.min(font.size, Math.floor(room / LINE_HEIGHT));
  if (!pairs.length || size < 9) return notes;
  const forms = (between) => (twoLines
    ? [[`strongest ${TOP_EDGES}`, `of ${between} drawn`], ["strongest", `${TOP_EDGES} of ${between}`],
      [`top ${TOP_EDGES}`, `of ${between}`], ["top", `${TOP_EDGES}`]]
    : [[`strongest ${TOP_EDGES} of ${between}`], [`top ${TOP_EDGES} of ${between}`], [`top ${TOP_EDGES}`]]);
  const fitNote = size === font.size ? fit : fitting(columnSpacing(dims, w), size);
  fitNote(pairs.map(({between}) => forms(between)))
    .forEach((text, k) => notes.push(at((position(dims, pairs[k].l - 1, 0).x + position(dims, pairs[k].l, 0).x) / 2,
      plus / h, text, {font: {...font, size, color: "#595959"}})));
  return notes;
}

// labels whose centres are `spacing` px apart, so that neighbours do not run into each
// other (a phone, a deep network): each label's forms (lines of text) from the longest to
// the shortest, and all labels of a kind take the first form k in which every one fits (a
// label with fewer forms keeps its last)
function fitting(spacing, size) {
  const fits = (lines) => Math.max(...lines.map((line) => line.length)) * 0.6 * size <= spacing - 6;
  return (labels) => {
    const form = (forms, k) => forms[Math.min(k, forms.length - 1)];
    const count = Math.max(0, ...labels.map((forms) => forms.length));
    const k = [...Array(count).keys()].find((j) => labels.every((forms) => fits(form(forms, j)))) ?? count - 1;
    return labels.map((forms) => form(forms, k).join("<br>"));
  };
}

// the band behind the layers the phase works on
function drawHighlight(ctx, phase, dims, w, h) {
  const {kind, l} = phase, L = dims.length - 1;
  const cols = kind === "forward" || kind === "backward" ? [Math.max(0, l - 1), l] : kind === "cost" ? [L, L] : [0, L];
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
    const s = nodeValues(frame, frame.phase, l);
    if (!s) return;
    const shownValues = s.v.slice(0, MAX_SHOWN).map((v) => formatNumber(v, 6)).join(", ");
    parts.push(`${s.name}${l ? `[${l}]` : ""} = ${shownValues}${n > MAX_SHOWN ? ` (+${n - MAX_SHOWN} more)` : ""}`);
  });
  return `Network diagram, iteration ${frame.t}, example ${frame.example.index}: ${parts.join("; ")}`;
}

// one picture of the diagram: a scene of network_scene.js, or one on its way (motion)
function paint(s) {
  const {frame, w, h, radius} = painting;
  const ctx = underlay(container, {l: 0, t: 0, w, h});
  drawHighlight(ctx, s.phase, frame.run.dims, w, h);
  drawEdges(ctx, s.edges);
  if (s.pulses) drawPulses(ctx, s.pulses);
  drawNodes(ctx, s.nodes, radius);
  drawLegend(ctx, w, h, s.top, s.legend);
  if (s.tag) drawTag(ctx, s, radius);
  if (s.cost > 0) drawCost(ctx, s, radius, s.cost);
}

const motion = createMotion(paint);

// the phase before the frame's, on the same step: where a replayed phase starts from
// (before forward 1, only X is known: "forward 0")
function previousPhase(frame) {
  const L = frame.run.L, k = phaseIndex(phaseKey(frame.phase), L);
  return k === 0 ? {kind: "forward", l: 0} : phaseList(L)[k - 1];
}

// while the phases play (frame.motion = {ms, replay}), the diagram moves from what it shows
// to the new scene; otherwise, and with reduced motion, it shows the new scene at once.
// replay: the phase on screen plays again, from the phase before it
function moveTo(frame, end, size) {
  const key = [frame.run.id, frame.t, phaseKey(frame.phase), frame.example.index, size.w, size.h, fontSize()].join("|");
  const wanted = frame.motion;
  if (!wanted || !wanted.ms || reducedMotion() || !motion.onScreen) return motion.show(end, key);
  if (wanted.replay) return motion.animate(scene(frame, size, previousPhase(frame)), end, wanted.ms, key);
  if (motion.heading === key) return null;  // there, or on its way: a redraw does not restart it
  return motion.animate(motion.onScreen, end, wanted.ms, key);
}

export function update(frame) {
  syncExampleChoice(frame);
  container.setAttribute("aria-label", valuesText(frame));
  const w = container.clientWidth, h = container.clientHeight;
  const radius = Math.max(6, Math.min(11, ((TOP - BOTTOM) * h) / (2.6 * MAX_SHOWN)));
  painting = {frame, w, h, radius};
  const end = scene(frame, {w, h});
  nodes = end.nodes;
  moveTo(frame, end, {w, h});
  showKey(frame);
  return react(container, [], baseLayout({
    margin: {l: 0, r: 0, t: 0, b: 0}, dragmode: false, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    xaxis: {visible: false, range: [0, 1], fixedrange: true}, yaxis: {visible: false, range: [0, 1], fixedrange: true},
    annotations: annotations(frame, w, h, radius),
  }));
}

function nearestNode(p) {
  const w = container.clientWidth, h = container.clientHeight;
  let best = null, bestD = 14 * 14;
  for (const n of nodes) {
    const d = ((n.at.x - p.x) * w) ** 2 + ((n.at.y - p.y) * h) ** 2;
    if (d < bestD) { best = n; bestD = d; }
  }
  return best && best.text;
}

export async function render(element, frame) {
  container = element;
  container.setAttribute("role", "figure");
  await update(frame);
  pointAt(container, nearestNode);
  followSize();
}

// the presenter layout gives the figure what is left of the screen, which settles after
// Plotly first measured it (a link's figure came 22 px taller than its box, and "+54 more"
// fell off a 720 px screen; Plotly.react keeps the size it measured): on its first
// observation and on each new size, Plotly measures the box again, and a canvas painted
// at another size is painted again
function followSize() {
  if (typeof ResizeObserver === "undefined") return;
  new ResizeObserver(() => {
    const {clientWidth: w, clientHeight: h} = container;
    if (!painting || !h) return;
    Plotly.Plots.resize(container);
    if (w !== painting.w || h !== painting.h) update(painting.frame);
  }).observe(container);
}
