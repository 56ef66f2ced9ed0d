// what each hidden unit learned: a thumbnail per unit of the selected hidden layer, its A
// over the input plane (2-D data), as TensorFlow Playground draws its neurons. the engine
// evaluates the maps on a coarse grid and sends a byte a point (the units route, docs/api.md);
// the page decodes them and paints canvases. they are fetched only while the panel is open
// and on screen, and never for other data: a step change then costs nothing for them.
import {api} from "../api.js";
import {DIVERGING} from "../plot_theme.js";
import {paintMatrix} from "../tensor_image.js";
import {formatNumber} from "../tensors.js";
import {showTip, hideTip} from "../tooltip.js";

export const UNITS_RESOLUTION = 24;
export const MAX_UNITS = 8;

let view = null;  // {panel, caption, picker, grid, legend}
let lastFrame = null, onScreen = false, stale = true, drawing = 0;
const picks = new Map();  // "run id/layer" -> the units the learner picked, ascending

const isPlane = (run) => run.dims[0] === 2 && run.L >= 2;
const hiddenLayer = (frame) => Math.min(frame.layer, frame.run.L - 1);
const pickKey = (run, layer) => `${run.id}/${layer}`;
const firstUnits = (run, layer) => [...Array(Math.min(run.dims[layer], MAX_UNITS)).keys()];
const unitsOf = (run, layer) => picks.get(pickKey(run, layer)) || firstUnits(run, layer);
const shown = () => view.panel.open && onScreen && !view.panel.hidden;

// a unit's bytes as values, rows from the top (largest x₂ first) as the canvas paints them;
// byte k stands for lo (1 - k/levels) + hi k/levels, the non-finite byte for NaN
function decode(unit, answer) {
  const R = answer.resolution, bytes = Uint8Array.from(atob(unit.bytes), (c) => c.charCodeAt(0));
  const rows = [];
  for (let i = R - 1; i >= 0; i--) {
    const row = new Array(R);
    for (let j = 0; j < R; j++) {
      const k = bytes[i * R + j], f = k / answer.levels;
      row[j] = k === answer.non_finite ? NaN : unit.lo * (1 - f) + unit.hi * f;
    }
    rows.push(row);
  }
  return rows;
}

// one colour scale for every thumbnail: blue -s, white 0, red +s, s the largest |A| shown
function sharedScale(units) {
  const s = Math.max(0, ...units.flatMap((u) => [u.lo, u.hi]).filter(Number.isFinite).map(Math.abs));
  return {s, position: (v) => (s > 0 ? (v / s + 1) / 2 : 0.5)};
}

function describeUnit(answer, unit, rows) {
  const bad = rows.flat().filter((v) => !Number.isFinite(v)).length;
  const range = unit.lo === null ? "no finite value" : `from ${formatNumber(unit.lo)} to ${formatNumber(unit.hi)}`;
  return `A[${answer.layer}]_${unit.unit}: unit ${unit.unit} of layer ${answer.layer} (${answer.activation}) over the input plane, ${range}` +
    (bad ? `; ${bad} of ${rows.length ** 2} points not finite` : "");
}

// the value under the mouse, as served (the nearest grid point)
function hover(canvas, answer, rows) {
  canvas.onmousemove = (e) => {
    const box = canvas.getBoundingClientRect(), R = answer.resolution;
    const j = Math.min(R - 1, Math.floor(((e.clientX - box.left) / box.width) * R));
    const r = Math.min(R - 1, Math.floor(((e.clientY - box.top) / box.height) * R));
    const at = (ends, k) => ends[0] + ((ends[1] - ends[0]) * k) / (R - 1);
    showTip(e, `x₁ = ${formatNumber(at(answer.x, j), 3)}, x₂ = ${formatNumber(at(answer.y, R - 1 - r), 3)}\nA = ${formatNumber(rows[r][j])}`);
  };
  canvas.onmouseleave = hideTip;
}

function thumbnail(answer, unit, scale) {
  const figure = document.createElement("figure"), canvas = document.createElement("canvas");
  const label = document.createElement("figcaption"), rows = decode(unit, answer);
  figure.className = "unit-map";
  figure.dataset.unit = String(unit.unit);
  paintMatrix(canvas, rows, scale.position, DIVERGING);
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", describeUnit(answer, unit, rows));
  canvas.tabIndex = 0;  // the label is read when the keyboard reaches the picture
  hover(canvas, answer, rows);
  label.innerHTML = `<span class="unit-name">A[${answer.layer}]_${unit.unit}</span> <span class="muted">${
    unit.lo === null ? "not finite" : `${formatNumber(unit.lo, 3)} … ${formatNumber(unit.hi, 3)}`}</span>`;
  figure.append(canvas, label);
  return figure;
}

// a redraw of the same answer (a phase change, phase play) keeps the pictures it has
let painted = {answer: null, selected: null};

function paint(frame, answer) {
  if (painted.answer === answer && painted.selected === frame.layer) return;
  painted = {answer, selected: frame.layer};
  const scale = sharedScale(answer.units), {layer} = answer;
  view.grid.replaceChildren(...answer.units.map((u) => thumbnail(answer, u, scale)));
  view.grid.setAttribute("aria-label", `What each unit of layer ${layer} learned at iteration ${frame.t}`);
  const note = frame.layer > layer ? ` Layer ${frame.layer} is the output: its map is “What the model does”; this is layer ${layer}, the last hidden one.` : "";
  view.caption.textContent = `Each picture: one unit's activation A[${layer}]_i (${answer.activation}) over the input plane, x₁ across and x₂ up, ` +
    `with θ of iteration ${frame.t}, evaluated by the engine on a ${answer.resolution} × ${answer.resolution} grid without dropout.${note}`;
  // no range to give the ends: every unit's A is all 0 (a zero init's relus), or no value
  // is finite (a diverged step: the pictures are grey)
  const zero = answer.units.every((u) => u.lo === 0 && u.hi === 0);
  const blank = zero ? "every A shown is 0 (white)" : !(scale.s > 0) ? "no finite A to scale" : null;
  view.legend.querySelector(".unit-scale-low").textContent = blank ? "" : formatNumber(-scale.s, 3);
  view.legend.querySelector(".unit-scale-high").textContent = blank || formatNumber(scale.s, 3);
}

// the learner's choice of units: a box per unit of a layer wider than MAX_UNITS, at most
// MAX_UNITS ticked (the others wait, disabled), and a way back to the first ones
function buildPicker(run, layer) {
  const key = pickKey(run, layer);
  if (view.picker.dataset.key === key) return;
  view.picker.dataset.key = key;
  view.picker.hidden = run.dims[layer] <= MAX_UNITS;
  if (view.picker.hidden) { view.picker.replaceChildren(); return; }
  const chosen = new Set(unitsOf(run, layer)), boxes = [];
  const legend = document.createElement("legend");
  legend.textContent = `Units of layer ${layer} to draw (at most ${MAX_UNITS} of ${run.dims[layer]})`;
  const list = document.createElement("div");
  list.className = "unit-boxes";
  for (let i = 0; i < run.dims[layer]; i++) {
    const label = document.createElement("label"), box = document.createElement("input");
    box.type = "checkbox";
    box.value = String(i);
    box.checked = chosen.has(i);
    box.addEventListener("change", () => choose(run, layer, boxes));
    label.append(box, ` ${i}`);
    list.append(label);
    boxes.push(box);
  }
  const reset = document.createElement("button");
  reset.type = "button";
  reset.textContent = `first ${MAX_UNITS}`;
  reset.addEventListener("click", () => {
    boxes.forEach((b, i) => { b.checked = i < MAX_UNITS; });
    choose(run, layer, boxes);
  });
  view.picker.replaceChildren(legend, list, reset);
  limitBoxes(boxes);
}

function limitBoxes(boxes) {
  const full = boxes.filter((b) => b.checked).length >= MAX_UNITS;
  boxes.forEach((b) => { b.disabled = full && !b.checked; });
}

function choose(run, layer, boxes) {
  let units = boxes.filter((b) => b.checked).map((b) => Number(b.value));
  if (!units.length) {  // at least one unit: the last one unticked stays
    units = unitsOf(run, layer);
    boxes.forEach((b) => { b.checked = units.includes(Number(b.value)); });
  }
  picks.set(pickKey(run, layer), units);
  limitBoxes(boxes);
  if (lastFrame) draw(lastFrame).catch(showFailure);
}

// the maps of step t, and (paused) those of the steps either side, which the next move
// most likely needs; playing, the next one
async function draw(frame) {
  const {run, t} = frame, layer = hiddenLayer(frame), units = unitsOf(run, layer);
  buildPicker(run, layer);
  const ask = (s) => api.units(run.id, s, {layer, units, resolution: UNITS_RESOLUTION});
  const seq = ++drawing;
  stale = false;
  const answer = await ask(t);
  if (seq !== drawing) return;  // a newer frame or choice is on its way
  paint(frame, answer);
  for (const s of frame.playing ? [t + 1] : [t + 1, t - 1]) {
    if (s >= 0 && s < run.num_steps) ask(s).catch(() => {});
  }
}

function showFailure(err) {
  view.caption.textContent = `The unit maps could not be loaded: ${err.message}`;
}

// a draw that the renderer did not ask for (the panel opened or scrolled into view)
function drawIfWanted() {
  if (lastFrame && stale && shown()) draw(lastFrame).catch(showFailure);
}

// what the maps are of (step_renderer.js asks for them again when one changes)
export const inputs = (frame) => [frame.t, frame.layer];

export function update(frame) {
  lastFrame = frame;
  view.panel.hidden = !isPlane(frame.run);
  stale = true;
  if (!shown()) return null;
  return draw(frame);
}

function legendElement() {
  const legend = document.createElement("p");
  legend.className = "legend muted unit-legend";
  legend.innerHTML = "One colour scale for every picture: <span class=\"unit-scale-low\"></span> " +
    "<span class=\"unit-ramp\" aria-hidden=\"true\"></span> <span class=\"unit-scale-high\"></span> " +
    "(blue negative, white 0, red positive; the largest |A| shown sets the ends) · " +
    "<span class=\"key-non-finite\">grey</span>: not finite · hover: the value at a point";
  return legend;
}

export function render(element, frame) {
  const caption = document.createElement("p"), grid = document.createElement("div");
  const picker = document.createElement("fieldset");
  caption.className = "caption";
  grid.className = "unit-maps";
  grid.setAttribute("role", "group");
  picker.className = "unit-picker";
  view = {panel: element.closest("details"), caption, picker, grid, legend: legendElement()};
  element.replaceChildren(caption, grid, view.legend, picker);
  view.panel.addEventListener("toggle", drawIfWanted);
  new IntersectionObserver((entries) => {
    onScreen = entries[entries.length - 1].isIntersecting;
    drawIfWanted();
  }, {rootMargin: "100px"}).observe(view.panel);
  return update(frame);
}
