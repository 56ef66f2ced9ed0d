// cache inspector: the selected layer's cache drawn as the course's tuple,
//   cache[l] = (linear_cache, activation_cache), linear_cache = (A_prev, W, b), activation_cache = Z,
// with A[l] outside both (it is the next layer's A_prev, stored in linear_cache[l + 1]) and
// the gradients as their own group. the phase frames what it reads (blue, dashed) and what
// it writes (orange), and a sentence names them; tensors the phase has not computed yet
// are faded; the update phase shows the W and b it writes, θ_{t+1}. every heatmap has a
// colour bar (colour_scale.js); a click or Enter on a cell asks the formula view to explain
// the exact entry (cache_slot.js).
import {cachesA, skipsGPrime} from "../mistakes.js";
import {computedAt, layerRoles, phaseIO} from "../phases.js";
import {apartNames, colourScales} from "../colour_scale.js";
import {formatNumber, shownTo} from "../tensors.js";
import {tensorLabel} from "../course_names.js";
import {activeBug} from "../run_status.js";
import {createSlot, paintSlot} from "./cache_slot.js";
import * as mythCard from "../myth_card.js";
import {setText, setHTML} from "../dom.js";

const GROUPS = {linear: ["A_prev", "W", "b"], activation: ["Z"], output: ["A"], gradients: ["dA", "dZ", "dW", "db", "D"]};
let container = null, parts = null, shown = null;  // shown: {tensors, layer} of the last drawing

function labels(l, L) {
  return {A_prev: l === 1 ? "A_prev = X" : `A_prev = A[${l - 1}]`, W: `W[${l}]`, b: `b[${l}]`, Z: `Z[${l}]`,
    A: l === L ? `A[${l}] = ŷ` : `A[${l}]`, D: `D[${l}] mask`, dA: `dA[${l}]`, dZ: `dZ[${l}]`, dW: `dW[${l}]`, db: `db[${l}]`};
}

// "a, b and c"
const listText = (items) => (items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`);

// what phase p does with cache[l], in one sentence; role: layerRoles of layer l
function readsSentence(p, l, L, config, role) {
  if (p.kind === "forward" && p.l === l) {
    return `forward, layer ${l} reads A_prev, W[${l}] and b[${l}], computes Z[${l}] and A[${l}], and stores ` +
      `cache[${l}]: linear_cache = (A_prev, W[${l}], b[${l}]) and activation_cache = Z[${l}], for backward.`;
  }
  if (p.kind === "backward" && p.l === l) {
    const gPrime = cachesA(config.bug) ? "A from activation_cache for g′(A) (the mistake; the correct code's holds Z)"
      : skipsGPrime(config.bug) ? "no Z (the mistake: dZ = dA, without g′(Z))" : "Z from activation_cache for g′(Z)";
    return `backward, layer ${l} reads cache[${l}]: ${gPrime}, A_prev and W from ` +
      `linear_cache (b only for its shape), and dA[${l}]${role.D === "read" ? ` with the mask D[${l}]` : ""}; ` +
      `it writes ${listText(phaseIO(p, L, config).writes)}.`;
  }
  if (p.kind === "forward" && p.l === l - 1) return `forward, layer ${l - 1} writes A[${l - 1}], which linear_cache[${l}] keeps as A_prev.`;
  if (p.kind === "backward" && p.l === l + 1) return `backward, layer ${l + 1} writes dA[${l}] = W[${l + 1}]ᵀ dZ[${l + 1}], which backward, layer ${l} reads next.`;
  if (p.kind === "cost" && l === L) return `the cost reads A[${L}] = ŷ and Y, and writes dA[${L}], where backward starts.`;
  if (p.kind === "update") return `update reads dW[${l}] and db[${l}] and writes W[${l}] and b[${l}] for the next iteration; cache[${l}] is done with.`;
  const when = p.kind === "forward" && p.l < l ? `forward, layer ${l} will store it`
    : p.kind === "backward" && p.l < l ? `backward, layer ${l} has read it` : `backward, layer ${l} will read it`;
  return `this phase does not touch cache[${l}]: ${when}.`;
}

// the update phase writes θ_{t+1}: W and b show it (iteration t + 1's, as served), or
// W + ΔW after the run's last iteration, which has no next record
function afterUpdate(frame) {
  const p = frame.params[frame.layer - 1], next = frame.paramsAfter;
  if (next) return {W: next[frame.layer - 1].W, b: next[frame.layer - 1].b, note: `W and b after the update: θ of iteration ${frame.t + 1}`};
  // display arithmetic, not network maths: the sum the optimizer's update already is
  const plus = (t, d) => ({...t, data: t.data.map((row, i) => row.map((v, j) => (v ?? NaN) + (d.data[i][j] ?? NaN)))});
  return {W: plus(p.W, p.updateW), b: plus(p.b, p.updateB),
    note: `W + ΔW, b + Δb: the last update (no iteration ${frame.t + 1} is recorded)`};
}

function tensorsOf(frame) {
  const p = frame.params[frame.layer - 1];
  const T = {...frame.selected, W: p.W, b: p.b, dW: p.dW, db: p.db};
  return frame.phase.kind === "update" ? {...T, ...afterUpdate(frame)} : T;
}

const span = (a, b, what) => (b - a === 1 ? `${what} ${a}` : `${what}s ${a}–${b - 1}`);

// "= 0.4717", or "≈ 0.47" for a value sent as a byte, to the digits it carries
const valueText = (cell) => (cell.precision > 0 && Number.isFinite(cell.value)
  ? `≈ ${formatNumber(shownTo(cell.value, cell.precision), 6)}` : `= ${formatNumber(cell.value, 6)}`);

// hover and cursor text of an entry {name, row, col, value, precision, block}
function describe(cell) {
  if (!shown) return "";
  const vector = cell.name === "b" || cell.name === "db";
  const where = (row, col) => (vector ? `[${row}]` : `[row ${row}, col ${col}]`);
  const name = tensorLabel(cell.name, shown.layer);
  const after = shown.tensors.note && /^[Wb]$/.test(cell.name) ? " after the update" : "";
  if (!cell.block) return `${name}${where(cell.row, cell.col)}${after} ${valueText(cell)}`;
  const {r0, r1, c0, c1, count} = cell.block;
  return `${name}: mean of a ${r1 - r0}×${c1 - c0} block of ${count} cells ` +
    `(${span(r0, r1, "row")}, ${span(c0, c1, "column")}) ${valueText(cell)}; ` +
    `its entry ${where(cell.row, cell.col)} opens with its exact value`;
}

function el(tag, attrs = {}, ...children) {
  const node = Object.assign(document.createElement(tag), attrs);
  node.append(...children);
  return node;
}

// the tuple's frames and groups, built once: later steps only repaint them
function build(onCell) {
  const status = el("p", {className: "sr-only"});
  status.setAttribute("aria-live", "polite");
  const hooks = {describe, open: onCell, announce: (text) => { status.textContent = text; }};
  const slots = {};
  const group = (key) => el("div", {className: "slots"}, ...GROUPS[key].map((n) => (slots[n] = createSlot(n, hooks)).el));
  const caption = (cls) => el("figcaption", {className: cls});
  const linear = el("figure", {className: "cache-frame cache-linear"}, caption("frame-label"), group("linear"));
  const activation = el("figure", {className: "cache-frame cache-activation"}, caption("frame-label"), group("activation"));
  linear.dataset.testid = "cache-linear";
  activation.dataset.testid = "cache-activation";
  const nextText = el("p", {className: "next-note"}), nextLink = el("button", {type: "button", className: "next-link"});
  nextLink.dataset.testid = "cache-next-layer";
  // the layer drop-down is the one way to choose a layer: the link chooses through it
  nextLink.addEventListener("click", () => {
    const select = document.getElementById("layer-select");
    select.value = nextLink.dataset.layer;
    select.dispatchEvent(new Event("change"));
  });
  const output = el("div", {className: "cache-output"}, group("output"), nextText, nextLink);
  const title = el("p", {className: "cache-title"}), note = el("p", {className: "cache-note"});
  const reads = el("p", {className: "cache-reads"});
  reads.dataset.testid = "cache-reads";
  const gradTitle = el("p", {className: "frame-label"});
  const grads = el("section", {className: "cache-grads"}, gradTitle, group("gradients"));
  grads.dataset.testid = "cache-gradients";
  const tuple = el("div", {className: "cache-tuple"}, title, el("div", {className: "cache-row"}, linear, activation, output));
  container.replaceChildren(tuple, note, reads, grads, status);
  return {slots, title, note, reads, linear, activation, nextText, nextLink, gradTitle, scaleNote: document.getElementById("scale-note")};
}

const SCALE_WORDS = {shared: "one range for the forward tensors, one for the gradients",
  tensor: "each heatmap its own range", run: "each heatmap its range over the whole run",
  symlog: "sign(x)·log10(1 + |x|/ε), ε = shared range / 1000"};

function words(frame, T, ranges) {
  const l = frame.layer, L = frame.run.L;
  setHTML(parts.title, `<b>cache[${l}] = (linear_cache, activation_cache)</b> <span class="muted">layer ${l} · iteration ${frame.t}</span>`);
  // a narrow frame breaks its name after the underscore, not through its border
  setHTML(parts.linear.querySelector(".frame-label"), "linear_<wbr>cache = (A_prev, W, b)");
  setHTML(parts.activation.querySelector(".frame-label"), "activation_<wbr>cache = Z");
  setText(parts.nextText, l < L ? `A[${l}] → A_prev of layer ${l + 1}, stored in linear_cache[${l + 1}]` : `A[${L}] = ŷ, read by the cost`);
  parts.nextLink.hidden = l >= L;
  parts.nextLink.dataset.layer = String(l + 1);
  setText(parts.nextLink, `→ cache[${l + 1}]`);
  parts.nextLink.setAttribute("aria-label", `open layer ${l + 1}, whose linear_cache holds A[${l}] as A_prev`);
  setText(parts.gradTitle, `gradients of layer ${l} (backward)${T.D ? ` and the dropout mask D[${l}]` : ""}`);
  setText(parts.note, T.note || "");
  parts.note.hidden = !T.note;
  // a bug that changes no number of this run trains as the correct code: the roles are its
  const config = {...frame.run.config, bug: activeBug(frame.run)};
  setText(parts.reads, readsSentence(frame.phase, l, L, config, layerRoles(frame.phase, l, L, config)));
  const scale = SCALE_WORDS[frame.scale] ? frame.scale : "shared";
  // the tensors that the shared ranges leave to a range of their own (colour_scale.js)
  const apartWords = {A: `A[${L}], ${frame.run.config.loss === "mse" ? "in (0, 1)" : "probabilities"}`,
    dA: `dA[${L}], which the fused dZ = A − Y does not use`};
  const apart = scale === "shared" || scale === "symlog" ? apartNames(frame).map((n) => apartWords[n]) : [];
  const own = apart.length ? ` (${apart.join(", and ")}, ${apart.length > 1 ? "each its" : "its"} own)` : "";
  // what a bar's "· own max" and its italic numbers mean, where a bar shows them
  const bars = Object.values(ranges).filter((r) => r && r.top);
  const marks = [bars.some((r) => r.from === "heatmap") ? "“own max” on a bar: its range is the largest value drawn, with no served statistic" : "",
    bars.some((r) => !r.exact) ? "italic numbers: from the drawn block means, the true range may be wider" : ""];
  setText(parts.scaleNote, [`colours (${scale}): ${SCALE_WORDS[scale]}${own}; white: 0`, ...marks.filter(Boolean)].join("; "));
}

function paint(frame, T, ranges) {
  const l = frame.layer, L = frame.run.L;
  const role = layerRoles(frame.phase, l, L, {...frame.run.config, bug: activeBug(frame.run)});
  const done = computedAt(frame.phase, l, L), label = labels(l, L);
  for (const [name, slot] of Object.entries(parts.slots)) {
    paintSlot(slot, T[name], {label: label[name], range: name === "D" ? null : ranges[name], faded: !done[name]});
    slot.el.classList.toggle("role-read", role[name] === "read");
    slot.el.classList.toggle("role-write", role[name] === "write");
  }
  // a frame is read when backward reads its cache, written when forward stores it
  parts.linear.dataset.role = role.linear_cache || "";
  parts.activation.dataset.role = role.activation_cache || "";
}

export function update(frame) {
  const T = tensorsOf(frame);
  shown = {tensors: T, layer: frame.layer};
  const ranges = colourScales(frame, T);
  words(frame, T, ranges);
  paint(frame, T, ranges);
  mythCard.update(frame, T);
}

export function render(element, frame, onCellClick) {
  container = element;
  parts = build(onCellClick);
  mythCard.render(document.getElementById("myth-card"), document.getElementById("myth-reopen"));
  return update(frame);
}
