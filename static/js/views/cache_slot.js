// one heatmap of the cache inspector: its title (name and shape), a canvas of one pixel
// per drawn cell, a cursor cell for the keyboard and its colour bar. the canvas takes the
// focus with Tab: arrow keys move the cursor over the drawn cells, Enter opens the
// formula of the entry under it (the first entry of its block, where the heatmap is
// block-averaged), as a click does. hover names the cell, or the block a drawn cell is
// the mean of.
import {DIVERGING} from "../plot_theme.js";
import {paintMatrix} from "../tensor_image.js";
import {positionOf} from "../colour_scale.js";
import {fullShape, shapeText, formatNumber, blockOf} from "../tensors.js";
import {showTip, hideTip} from "../tooltip.js";
import {setText, setHTML, setStyle, setWholeNumbers} from "../dom.js";

const MASK = [[0, "#ffffff"], [1, "#252525"]];
const MOVES = {ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0]};
const STOPS = DIVERGING.map(([p, c]) => `${c} ${100 * p}%`).join(", ");
// b and db are one column: their bar stands beside them, negative at the bottom
const VECTORS = new Set(["b", "db"]);
const FAINT = 0.05;  // a tensor below this share of its shared range is called faint
// a bar's labels in font-size units a character (a generous average of this font's
// digits and signs), and the width below which cache.css hides "faint: its max …"
const CHAR_EM = 0.62, NOTE_ROOM = 140;

// a bar too narrow for "−9.8e250  0 · own max  9.8e250" shows "±9.8e250" alone rather than
// three clipped labels ("−9.8e…"), the size being what the bar must tell (its title says
// the rest); the width comes from a ResizeObserver, so drawing never forces a layout
function fitTicks(bar) {
  const width = Number(bar.dataset.width);
  if (bar.closest(".vector")) return fitColumnTicks(bar);  // a vector's labels stand beside its bar
  if (!width) return;
  const [low, zero, high] = bar.labels;
  const note = zero.querySelector(".faint-note");
  const zeroChars = zero.textContent.length - (note && width < NOTE_ROOM ? note.textContent.length : 0);
  const size = tickSize();
  const needed = (low.textContent.length + zeroChars + high.textContent.length) * CHAR_EM * size + 12;
  const tight = !bar.mask && needed > width;
  bar.classList.toggle("tight", tight);
  // "±2.2e299" cut to "±2.2e2…" reads as ±220: a bar too narrow for it in full takes
  // smaller numbers (cache.css)
  bar.classList.toggle("cramped", tight && (high.textContent.length + 1) * CHAR_EM * size + 4 > width);
}

// the font size of the bars' numbers (cache.css: 10 px, 12 in large text, 14 projected)
function tickSize() {
  const classes = document.documentElement.classList;
  return classes.contains("presenter") ? 14 : classes.contains("big") ? 12 : 10;
}

// a column's bar (b, db) stands as tall as its heatmap: where that is shorter than three
// lines of its numbers (the presenter layout's heatmaps shrink to the window), the 0 in the
// middle goes, so that the top and bottom numbers do not run into it
function fitColumnTicks(bar) {
  const height = Number(bar.dataset.height);
  if (height) bar.classList.toggle("short", !bar.mask && height < 3 * 1.2 * tickSize() + 2);
}

const barWidths = typeof ResizeObserver === "undefined" ? null : new ResizeObserver((entries) => {
  for (const entry of entries) {
    entry.target.dataset.width = String(entry.contentRect.width);
    entry.target.dataset.height = String(entry.contentRect.height);
    fitTicks(entry.target);
  }
});

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

// the entry of the full tensor that drawn cell (i, j) stands for; (fy, fx): where inside
// the drawn cell, 0..1, picks an entry of its block (the block's first for the keyboard)
function entryAt(t, i, j, fy = 0, fx = 0) {
  const block = blockOf(t, i, j);
  return {row: block.r0 + Math.floor(fy * (block.r1 - block.r0)), col: block.c0 + Math.floor(fx * (block.c1 - block.c0)),
    value: t.data[i][j], block: t.downsampled_from ? block : null};
}

// the colour bar: numbers at both ends and 0 in the middle (the mask: 0 and 1)
function drawBar(slot, range) {
  const bar = slot.bar;
  slot.faintEl.hidden = true;
  if (!range) {
    bar.dataset.low = "0";
    bar.dataset.high = "1";
    setStyle(bar.strip, "background", `linear-gradient(${slot.direction}, #ffffff, #252525)`);
    bar.labels.forEach((el, k) => { el.textContent = ["0 dropped", "", "1 kept"][k]; });
    bar.mask = true;
    bar.classList.remove("tight", "cramped");
    bar.title = "dropout mask: 0 drops the unit, 1 keeps it";
    return;
  }
  bar.mask = false;
  const top = range.top, own = range.from === "heatmap";
  Object.assign(bar.dataset, {low: String(-top), high: String(top), from: range.from, eps: range.eps ? String(range.eps) : ""});
  setStyle(bar.strip, "background", `linear-gradient(${slot.direction}, ${STOPS})`);
  setText(bar.labels[0], `${top ? "−" : ""}${formatNumber(top, 2)}`);
  // under a shared range, a tensor far smaller than its group's largest is near white:
  // honest, and the bar says how small it is (per tensor shows its pattern)
  const faint = !range.eps && range.own !== undefined && range.own < FAINT * top;
  // ε of symlog, a range that is not served (the heatmap's own), and a faint tensor, say
  // so in the bar (a narrow bar has no room for "faint": cache.css hides it, the title says it)
  setHTML(bar.labels[1], `0${range.eps ? ` · ε ${formatNumber(range.eps, 2)}` : ""}${own ? " · own max" : ""}` +
    (faint ? `<span class="faint-note"> · faint: its max ${formatNumber(range.own, 2)}</span>` : ""));
  bar.classList.toggle("faint", faint);
  if (faint) {
    // short: a 1 × 8 W of a presenter's inspector has two lines of room; the bar gives ±top
    setWholeNumbers(slot.faintEl.firstChild, faintWords(slot.tensor, range.own));
    slot.faintEl.hidden = false;
  }
  setText(bar.labels[2], formatNumber(top, 2));
  if (!top) {  // a range of 0 says what the tensor holds rather than "0  0 · own max  0"
    setText(bar.labels[0], "");
    setText(bar.labels[1], zeroWords(slot.tensor));
    setText(bar.labels[2], "");
  }
  fitTicks(bar);
  bar.classList.toggle("approx", !range.exact && top > 0);  // italic numbers, not words
  const source = {step: "this iteration's exact range", run: "the exact range over the whole run",
    heatmap: range.exact ? "this tensor's own range (no served statistic)" : "the largest drawn block mean (no served statistic): the true range may be wider"}[range.from];
  bar.title = `colours from −${formatNumber(top, 6)} to ${formatNumber(top, 6)}: ${source}` +
    (faint ? `; this tensor's own max |value| is ${formatNumber(range.own, 6)}, so it is drawn near white (colours: per tensor shows its pattern)` : "") +
    (range.eps ? `; symlog: sign(x)·log10(1 + |x|/ε), ε = ${formatNumber(range.eps, 4)}` : "");
}

// what a heatmap drawn near white holds: its largest |value|, or where that is 0 (from the
// cells' own: no statistic served), zeroWords; of its finite cells where some are not (a
// diverged tensor's grey rest is not near white)
function faintWords(tensor, own) {
  return own > 0 ? `${allFinite(tensor) ? "near white" : "finite"}: max |x| ${formatNumber(own, 2)}`
    : zeroWords(tensor);
}

const allFinite = (tensor) => (tensor ? tensor.data : []).every((row) => row.every((v) => Number.isFinite(v)));

// what a tensor whose largest |value| is 0 holds: zeros, or no finite value at all (grey);
// a diverged tensor's few finite cells are "finite: all 0", not the grey rest
function zeroWords(tensor) {
  const rows = tensor ? tensor.data : [];
  if (!rows.some((row) => row.some((v) => Number.isFinite(v)))) return "no finite value";
  return allFinite(tensor) ? "all 0" : "finite: all 0";
}

function cursorBox(slot) {
  const t = slot.tensor, [i, j] = slot.cursor;
  return {left: (100 * j) / t.shape[1], top: (100 * i) / t.shape[0], width: 100 / t.shape[1], height: 100 / t.shape[0]};
}

function placeCursor(slot) {
  const box = cursorBox(slot);
  Object.assign(slot.cursorEl.style, {left: `${box.left}%`, top: `${box.top}%`, width: `${box.width}%`, height: `${box.height}%`});
}

// the drawn cell under a pointer event, with where inside it the pointer is
function cellUnder(slot, e) {
  const r = slot.canvas.getBoundingClientRect(), t = slot.tensor;
  const y = ((e.clientY - r.top) / r.height) * t.shape[0], x = ((e.clientX - r.left) / r.width) * t.shape[1];
  const i = Math.min(t.shape[0] - 1, Math.max(0, Math.floor(y))), j = Math.min(t.shape[1] - 1, Math.max(0, Math.floor(x)));
  return {i, j, fy: y - Math.floor(y), fx: x - Math.floor(x)};
}

// precision: the largest error of a value sent as a byte (tensors.js), else 0 (exact)
function cellOf(slot, i, j, fy, fx) {
  return {name: slot.name, precision: slot.tensor.precision || 0, ...entryAt(slot.tensor, i, j, fy, fx)};
}

// the screen's band of drawn row i: a formula that cannot open beside it opens under or
// over it (a phone), not over the row
function rowBand(slot, i) {
  const r = slot.canvas.getBoundingClientRect(), R = slot.tensor.shape[0];
  return {top: r.top + (i / R) * r.height, bottom: r.top + ((i + 1) / R) * r.height};
}

// the cursor cell's middle on screen, and its row's band: where its formula opens
function cursorPoint(slot) {
  const r = slot.canvas.getBoundingClientRect(), t = slot.tensor, [i, j] = slot.cursor;
  return {x: r.left + ((j + 0.5) / t.shape[1]) * r.width, y: r.top + ((i + 0.5) / t.shape[0]) * r.height,
    ...rowBand(slot, i)};
}

// the slot's own keys: plain arrows move the cursor and stay here (they would otherwise
// step the iteration: controls.js listens on the document), Enter opens the formula;
// Escape and the other keys go on to the page
function onKey(slot, e, hooks) {
  if (!slot.tensor || e.ctrlKey || e.metaKey || e.altKey) return;
  if (MOVES[e.key] && !e.shiftKey) {
    const [di, dj] = MOVES[e.key], t = slot.tensor;
    slot.cursor = [Math.max(0, Math.min(t.shape[0] - 1, slot.cursor[0] + di)), Math.max(0, Math.min(t.shape[1] - 1, slot.cursor[1] + dj))];
    placeCursor(slot);
    hooks.announce(hooks.describe(cellOf(slot, ...slot.cursor)));
  } else if (e.key === "Enter") {
    hooks.open(cellOf(slot, ...slot.cursor), cursorPoint(slot));
  } else {
    return;
  }
  e.preventDefault();
  e.stopPropagation();
}

// the mouse events a tap sends come within this of its touchstart
const TAP_MS = 1000;
// px: a clicked spot, where the mouse rests after its click without a tip over the formula
const CLICK_SPOT = 8;

function listen(slot, hooks) {
  const c = slot.canvas;
  c.addEventListener("keydown", (e) => onKey(slot, e, hooks));
  c.addEventListener("focus", () => slot.tensor && hooks.announce(hooks.describe(cellOf(slot, ...slot.cursor))));
  // a tap sends the mouse events too: its formula says all the tip would, and the tip
  // stayed over the formula (a finger never "leaves" the canvas)
  let touched = -Infinity;
  c.addEventListener("touchstart", () => { touched = performance.now(); hideTip(); }, {passive: true});
  // a clicked cell's formula says all its tip would: no tip over the formula until the
  // mouse moves to another cell, and off the spot (a dense heatmap's cells are under a
  // pixel wide), or the slot draws another tensor (slot.clicked)
  c.addEventListener("mousemove", (e) => {
    if (!slot.tensor || performance.now() - touched < TAP_MS) return;
    const {i, j, fy, fx} = cellUnder(slot, e);
    const at = slot.clicked;
    if (at && (at.cell === `${i},${j}` || Math.hypot(e.clientX - at.x, e.clientY - at.y) < CLICK_SPOT)) return;
    slot.clicked = null;
    showTip(e, hooks.describe(cellOf(slot, i, j, fy, fx)) + "\nclick: its exact value and formula");
  });
  c.addEventListener("mouseleave", () => { slot.clicked = null; hideTip(); });
  // a click opens the formula and moves the cursor there, without taking the focus: the
  // arrow keys keep stepping the iteration for a mouse user
  c.addEventListener("mousedown", (e) => {
    if (e.button !== 0 || !slot.tensor) return;
    e.preventDefault();
    const {i, j, fy, fx} = cellUnder(slot, e);
    slot.clicked = {cell: `${i},${j}`, x: e.clientX, y: e.clientY};
    hideTip();
    slot.cursor = [i, j];
    placeCursor(slot);
    hooks.open(cellOf(slot, i, j, fy, fx), {x: e.clientX, y: e.clientY, ...rowBand(slot, i)});
  });
}

// hooks: {describe(cell) -> text, open(cell, point), announce(text)}
export function createSlot(name, hooks) {
  const el = element("div", "slot"), title = element("div", "slot-title");
  const box = element("div", "heatmap-box"), canvas = element("canvas", "heatmap");
  const cursorEl = element("div", "cell-cursor"), bar = element("div", "colour-bar");
  // over a heatmap that its shared range draws near white: how small it is, in sight on a
  // projector or a phone, where the bar has no room and nothing hovers
  const faintEl = element("div", "faint-overlay");
  faintEl.append(element("span", "faint-words"));
  faintEl.hidden = true;
  el.dataset.name = name;
  el.classList.toggle("vector", VECTORS.has(name));
  Object.assign(canvas.dataset, {testid: `cache-slot-${name}`, name});
  canvas.tabIndex = 0;
  box.append(canvas, cursorEl, faintEl);
  bar.strip = element("div", "bar-strip");
  bar.labels = [element("span", "bar-low"), element("span", "bar-zero"), element("span", "bar-high")];
  const ticks = element("div", "bar-ticks");
  ticks.append(...bar.labels);
  bar.append(bar.strip, ticks);
  if (barWidths) barWidths.observe(bar);
  el.append(title, box, bar);
  const slot = {name, el, title, canvas, cursorEl, bar, faintEl, tensor: null, cursor: [0, 0],
    direction: VECTORS.has(name) ? "to top" : "to right"};
  listen(slot, hooks);
  return slot;
}

// draw tensor t (or nothing: the slot hides) under `label`; range: its colour scale
// (null for the dropout mask); faded: the phase has not computed it yet
export function paintSlot(slot, t, {label, range, faded, note = ""}) {
  slot.el.hidden = !t;
  slot.tensor = t || null;
  slot.clicked = null;
  if (!t) return;
  const [R, C] = fullShape(t);
  setHTML(slot.title, `<b>${label}</b> <span class="shape">${shapeText(t)}</span>${note}`);
  slot.title.title = `${label}: ${shapeText(t)}`;
  slot.canvas.setAttribute("aria-label", `${label}, ${R} × ${C}${t.downsampled_from ? `, drawn as ${t.shape[0]} × ${t.shape[1]} block means` : ""}: arrow keys move the cursor, Enter opens the formula`);
  Object.assign(slot.canvas.dataset, {rows: R, cols: C});
  slot.cursor = [Math.min(slot.cursor[0], t.shape[0] - 1), Math.min(slot.cursor[1], t.shape[1] - 1)];
  placeCursor(slot);
  slot.canvas.classList.toggle("faded", faded);
  slot.el.classList.toggle("faded", faded);
  paintMatrix(slot.canvas, t.data, range ? positionOf(range) : (v) => v, range ? DIVERGING : MASK);
  drawBar(slot, range);
}
