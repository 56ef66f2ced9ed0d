// cache inspector: heatmaps of the selected layer's cache and gradients, named in course
// notation with their shapes. the phase frames what it reads (blue, dashed) and what it
// writes (orange); tensors the phase has not computed yet are faded; the update phase
// shows the W and b it writes, θ_{t+1}. hovering shows a cell's value, or the mean of the
// block of cells that one drawn cell stands for; a click asks the formula view to explain
// the exact entry under the pointer.
// the heatmaps are painted on a canvas under the figure (tensor_image.js); Plotly draws
// the titles and frames, which change only with the phase and the layer. each slot also
// has a transparent box with a test id (cache-slot-Z, ...), so tests find cells by name.
import {react, baseLayout, DIVERGING} from "../plot_theme.js";
import {computedAt} from "../phases.js";
import {colourRange, hasRunRange} from "../colour_scale.js";
import {fullShape, shapeText, formatNumber, blockOf} from "../tensors.js";
import {matrixCanvas, underlay} from "../tensor_image.js";
import {pointAt} from "../tooltip.js";

const WRITE = "#D55E00", READ = "#0072B2";
const MASK = [[0, "#ffffff"], [1, "#252525"]];
// [name, column, row]: row 0 is the forward cache, row 1 the backward gradients
const SLOTS = [["A_prev", 0, 0], ["W", 1, 0], ["b", 2, 0], ["Z", 3, 0], ["A", 4, 0],
  ["D", 0, 1], ["dW", 1, 1], ["db", 2, 1], ["dZ", 3, 1], ["dA", 4, 1]];
const WIDTHS = [0.23, 0.12, 0.07, 0.23, 0.23];
const GAP = 0.03;
const ROWS = [[0.56, 0.86], [0.05, 0.35]];
let container = null, shown = null;  // shown: {tensors, layer} of the last drawing, for hover

function slotBox(k) {
  const [, c, r] = SLOTS[k];
  const x0 = WIDTHS.slice(0, c).reduce((s, w) => s + w + GAP, 0);
  return {x0, x1: x0 + WIDTHS[c], y0: ROWS[r][0], y1: ROWS[r][1]};
}

function title(frame, name, t) {
  const l = frame.layer, L = frame.run.L;
  const names = {
    A_prev: l === 1 ? "A_prev = X = A[0]" : `A_prev = A[${l - 1}]`, W: `W[${l}]`, b: `b[${l}]`,
    Z: `Z[${l}]`, A: l === L ? `A[${l}] = ŷ` : `A[${l}]`, D: `D[${l}] dropout mask`,
    dW: `dW[${l}]`, db: `db[${l}]`, dZ: `dZ[${l}]`, dA: `dA[${l}]`,
  };
  // asked for one range over the run, a tensor without a served statistic keeps its own
  const own = t && frame.scale === "run" && !hasRunRange(frame, name, l) ? " · colours: this step" : "";
  const size = t ? shapeText(t) + (name === "D" ? " · dark: kept" : "") + own : name === "D" ? "no dropout here" : "—";
  return `<b>${names[name]}</b><br>${size}`;
}

// the update phase writes θ_{t+1}: W and b show it (iteration t + 1's, as served), or
// W + ΔW after the run's last iteration, which has no next record
function afterUpdate(frame) {
  const p = frame.params[frame.layer - 1], next = frame.paramsAfter;
  if (next) return {W: next[frame.layer - 1].W, b: next[frame.layer - 1].b, note: `after the update: θ of iteration ${frame.t + 1}`};
  // display arithmetic, not network maths: the sum the optimizer's update already is
  const plus = (t, d) => ({...t, data: t.data.map((row, i) => row.map((v, j) => (v ?? NaN) + (d.data[i][j] ?? NaN)))});
  return {W: plus(p.W, p.updateW), b: plus(p.b, p.updateB),
    note: `W + ΔW, b + Δb: the last update (no iteration ${frame.t + 1} is recorded)`};
}

// {name: "read" | "write"} for the selected layer l in phase p (phases.js says the same
// in words): backward also reads the dropout mask D, and the cost reads W when L2 is on
export function roles(p, l, L, config) {
  const r = {};
  const set = (names, role) => names.forEach((n) => { r[n] = role; });
  if (p.kind === "forward" && p.l === l) { set(["A_prev", "W", "b"], "read"); set(["Z", "A", "D"], "write"); }
  if (p.kind === "forward" && p.l === l - 1) set(["A_prev"], "write");
  if (p.kind === "cost" && config.l2 > 0) set(["W"], "read");
  if (p.kind === "cost" && l === L) { set(["A"], "read"); set(["dA"], "write"); }
  if (p.kind === "backward" && p.l === l) {
    set(["dA", "D", "A_prev", "W", "b", "Z"], "read"); set(["dZ", "dW", "db"], "write");
  }
  if (p.kind === "backward" && p.l === l + 1) set(["dA"], "write");
  if (p.kind === "update") { set(["dW", "db"], "read"); set(["W", "b"], "write"); }
  return r;
}

function tensorsOf(frame) {
  const p = frame.params[frame.layer - 1];
  const T = {...frame.selected, W: p.W, b: p.b, dW: p.dW, db: p.db};
  return frame.phase.kind === "update" ? {...T, ...afterUpdate(frame)} : T;
}

// every tensor into its slot, one cell a block of pixels; faded where not computed yet
function paint(frame, T, done) {
  const size = container._fullLayout._size, ctx = underlay(container, size);
  ctx.imageSmoothingEnabled = false;
  SLOTS.forEach(([name], k) => {
    const t = T[name], box = slotBox(k);
    if (!t) return;
    const {top} = colourRange(frame, name, frame.layer, t);
    const cells = name === "D" ? matrixCanvas(t.data, 0, 1, MASK) : matrixCanvas(t.data, -top, top, DIVERGING);
    ctx.globalAlpha = done[name] ? 1 : 0.15;
    ctx.drawImage(cells, box.x0 * size.w, (1 - box.y1) * size.h, (box.x1 - box.x0) * size.w, (box.y1 - box.y0) * size.h);
  });
  ctx.globalAlpha = 1;
}

function frameShape(box, role) {
  return {type: "rect", xref: "paper", yref: "paper", x0: box.x0 - 0.006, x1: box.x1 + 0.006,
    y0: box.y0 - 0.02, y1: box.y1 + 0.02, line: {color: role === "write" ? WRITE : READ, width: 3,
      dash: role === "write" ? "solid" : "dash"}};
}

function layout(frame, T, done) {
  const {layer: l, phase} = frame, L = frame.run.L, role = roles(phase, l, L, frame.run.config);
  const out = baseLayout({margin: {l: 8, r: 8, t: 8, b: 8}, annotations: [], shapes: [],
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    xaxis: {visible: false, range: [0, 1], fixedrange: true}, yaxis: {visible: false, range: [0, 1], fixedrange: true},
    dragmode: false});
  SLOTS.forEach(([name], k) => {
    const box = slotBox(k), t = T[name];
    out.annotations.push({xref: "paper", yref: "paper", x: (box.x0 + box.x1) / 2, y: box.y1 + 0.025,
      xanchor: "center", yanchor: "bottom", showarrow: false, text: title(frame, name, t), font: {color: done[name] ? "#222" : "#999"}});
    if (!t) return;
    out.shapes.push({type: "rect", xref: "paper", yref: "paper", ...box, line: {color: "#bbb", width: 1}});
    if (role[name]) out.shapes.push(frameShape(box, role[name]));
  });
  if (T.note) {  // above W and b's titles, across both
    out.annotations.push({xref: "paper", yref: "paper", x: (slotBox(1).x0 + slotBox(2).x1) / 2, y: 1,
      xanchor: "center", yanchor: "top", showarrow: false, text: T.note, font: {color: WRITE}});
  }
  return out;
}

// a transparent box over each drawn slot, named by a test id: tests (and tools) find a
// tensor's cells through it, whatever the layout's proportions
function placeSlotBoxes(T) {
  const size = container._fullLayout._size;
  SLOTS.forEach(([name], k) => {
    let el = container.querySelector(`:scope > .slot-box[data-name="${name}"]`);
    if (!el) {
      el = Object.assign(document.createElement("div"), {className: "slot-box"});
      Object.assign(el.dataset, {name, testid: `cache-slot-${name}`});
      container.append(el);
    }
    const t = T[name], box = slotBox(k);
    el.hidden = !t;
    if (!t) return;
    Object.assign(el.style, {left: `${size.l + box.x0 * size.w}px`, top: `${size.t + (1 - box.y1) * size.h}px`,
      width: `${(box.x1 - box.x0) * size.w}px`, height: `${(box.y1 - box.y0) * size.h}px`});
    Object.assign(el.dataset, {rows: fullShape(t)[0], cols: fullShape(t)[1]});
  });
}

// the tensor cell under paper point p: {name, row, col} of the full-size entry under the
// pointer, the value drawn there, and the block of entries that value is the mean of
function cellAt(p) {
  if (!shown) return null;
  for (let k = 0; k < SLOTS.length; k++) {
    const box = slotBox(k), t = shown.tensors[SLOTS[k][0]];
    if (!t || p.x < box.x0 || p.x >= box.x1 || p.y < box.y0 || p.y >= box.y1) continue;
    const y = ((box.y1 - p.y) / (box.y1 - box.y0)) * t.shape[0], x = ((p.x - box.x0) / (box.x1 - box.x0)) * t.shape[1];
    const i = Math.floor(y), j = Math.floor(x), block = blockOf(t, i, j);
    // where in its block the pointer is picks the entry
    const row = block.r0 + Math.floor((y - i) * (block.r1 - block.r0));
    const col = block.c0 + Math.floor((x - j) * (block.c1 - block.c0));
    return {name: SLOTS[k][0], row, col, value: t.data[i][j], block: t.downsampled_from ? block : null};
  }
  return null;
}

const span = (a, b, what) => (b - a === 1 ? `${what} ${a}` : `${what}s ${a}–${b - 1}`);

function describe(p) {
  const cell = cellAt(p);
  if (!cell) return null;
  const vector = cell.name === "b" || cell.name === "db";
  const where = (row, col) => (vector ? `[${row}]` : `[row ${row}, col ${col}]`);
  const name = `${cell.name}[${shown.layer}]`;
  const after = shown.tensors.note && /^[Wb]$/.test(cell.name) ? " after the update" : "";
  if (!cell.block) return `${name}${where(cell.row, cell.col)}${after} = ${formatNumber(cell.value, 6)}\nclick: its formula`;
  const {r0, r1, c0, c1, count} = cell.block;
  return `${name}: mean of a ${r1 - r0}×${c1 - c0} block of ${count} cells ` +
    `(${span(r0, r1, "row")}, ${span(c0, c1, "column")}) = ${formatNumber(cell.value, 6)}\n` +
    `click: the exact value of ${cell.name}[${shown.layer}]${where(cell.row, cell.col)} and its formula`;
}

export async function update(frame) {
  const T = tensorsOf(frame), done = computedAt(frame.phase, frame.layer, frame.run.L);
  shown = {tensors: T, layer: frame.layer};
  await react(container, [], layout(frame, T, done));
  paint(frame, T, done);
  placeSlotBoxes(T);
}

export async function render(element, frame, onCellClick) {
  container = element;
  await update(frame);
  pointAt(container, describe, (p, event) => {
    const cell = cellAt(p);
    if (cell) onCellClick(cell, {x: event.clientX, y: event.clientY});
  });
}
