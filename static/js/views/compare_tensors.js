// the comparison's tensors at the current iteration and layer: one tensor (the current
// phase's, or the one the select names) of run A and run B side by side, and where their
// shapes match, run A − run B elementwise; and for each run whose config has a `bug`, the
// gradient its mistaken code computed beside the served true gradient (true_grads) at the
// same step. the differences are display arithmetic on served numbers, not network maths.
import {api} from "../api.js";
import {tensorLabel} from "../course_names.js";
import {HEATMAP_CELLS} from "../step_frame.js";
import {DIVERGING} from "../plot_theme.js";
import {paintMatrix} from "../tensor_image.js";
import {setWholeNumbers} from "../dom.js";
import {positionOf} from "../colour_scale.js";
import {absMax, hasNonFinite, fullShape, shapeText, formatNumber, layerTensors} from "../tensors.js";

// the names the select offers; "update" is ΔW = W_{t+1} − W_t
export const TENSORS = ["A_prev", "W", "b", "Z", "A", "D", "dA", "dZ", "dW", "db", "update"];
const GRADIENTS = ["dA", "dZ", "dW", "db"];
// the tensor each phase writes: what the comparison shows unless the select names another
export const OF_PHASE = {forward: "Z", cost: "A", backward: "dW", update: "update"};
// significant digits of the served numbers: a difference of two close tensors needs more
// than the display's 4, and full precision costs bytes without a visible change
const DIGITS = 6;
const FAINT = 0.05;  // a map below this share of the range it shares is called faint


// {tensor, truth} of run `side` at (t, l): its served tensor and, for a run with a bug, the
// true gradient of the same name; {why} when it has none there
async function sideOf(side, t, l, name) {
  const {run} = side;
  if (t >= run.num_steps) {
    const end = run.diverged ? `diverged at iteration ${run.diverged.step} and stopped there` : `ended at iteration ${run.num_steps - 1}`;
    return {why: `run ${side.name} has no iteration ${t}: it ${end}.`};
  }
  if (l > run.L) return {why: `run ${side.name} has no layer ${l}: it has ${run.L}.`};
  const record = await api.step(run.id, t, {layers: [l], fields: [name], maxCells: HEATMAP_CELLS, digits: DIGITS});
  const entry = record.layers[0], T = layerTensors(entry);
  const tensor = (name === "update" ? T.updateW : T[name]) || null;
  const truth = (entry.true_grads && entry.true_grads[name]) || null;
  if (!tensor) return {why: `run ${side.name} has no ${tensorLabel(name, l)}${name === "D" ? ": it uses no dropout mask there" : ""}.`};
  return {tensor, truth};
}

// what both runs show at view {t, layer, phase}, choice: a name of TENSORS or "auto";
// and, for each run with a bug, its gradient and the true one
export async function loadTensors(runs, view, choice) {
  const name = choice === "auto" ? OF_PHASE[view.phase.kind] : choice, {t, layer: l} = view;
  const buggy = runs.filter((r) => r.run.config.bug);
  const truthName = GRADIENTS.includes(name) ? name : "dW";
  const [a, b, ...mistaken] = await Promise.all([sideOf(runs[0], t, l, name), sideOf(runs[1], t, l, name),
    ...buggy.map((run) => sideOf(run, t, l, truthName))]);
  return {t, l, name, sides: [a, b], truths: buggy.map((run, k) => ({run, name: truthName, ...mistaken[k]}))};
}

const sameShape = (a, b) => JSON.stringify([fullShape(a), a.shape]) === JSON.stringify([fullShape(b), b.shape]);

// a − b cell by cell; a non-finite cell (null in JSON) makes NaN, drawn grey
function difference(a, b) {
  return {shape: a.shape, ...(a.downsampled_from ? {downsampled_from: a.downsampled_from} : {}),
    data: a.data.map((row, i) => row.map((v, j) => (v ?? NaN) - (b.data[i][j] ?? NaN)))};
}

function el(tag, className, text = "") {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

// one heatmap: its title, a canvas of one pixel per cell (CSS stretches it) and its range
function createMap(testid) {
  const map = {el: el("figure", "compare-map"), title: el("figcaption", "compare-map-title"),
    canvas: el("canvas", "compare-heat"), range: el("p", "compare-range muted")};
  map.el.dataset.testid = testid;
  map.canvas.setAttribute("role", "img");
  map.el.append(map.title, map.canvas, map.range);
  return map;
}

// the colour range in words; a map far smaller than the range it shares reads near white:
// honest, and the words say how small it is (as the cache inspector's colour bars do)
function rangeText(t, top, own) {
  const finite = t.data.some((row) => row.some(Number.isFinite));
  if (!finite) return "no finite value: every cell is grey";
  const range = top > 0 ? `colours −${formatNumber(top, 2)} … 0 … ${formatNumber(top, 2)}` : "every value is 0";
  const faint = top > 0 && own < FAINT * top ? ` · faint: its own largest |value| is ${formatNumber(own, 2)}` : "";
  return range + faint + (t.downsampled_from ? ` · drawn as ${t.shape[0]} × ${t.shape[1]} block means` : "") +
    (hasNonFinite(t) ? " · grey: not finite" : "");
}

// tensor t drawn on ±top; top: shared with the map beside it, so a colour means one value
function paintMap(map, t, top, title) {
  map.el.hidden = !t;
  if (!t) return;
  const [R, C] = fullShape(t), own = absMax(t);
  map.title.textContent = `${title} · ${shapeText(t)}`;
  map.canvas.setAttribute("aria-label", `${title}, ${R} × ${C}, largest |value| ${formatNumber(own, 3)}`);
  Object.assign(map.el.dataset, {maxAbs: String(own), nonFinite: String(hasNonFinite(t)), rows: R, cols: C});
  paintMatrix(map.canvas, t.data, positionOf({top}), DIVERGING);
  setWholeNumbers(map.range, rangeText(t, top, own));
}

// a row of three maps (left, right, left − right) under a caption, with a note for what
// cannot be drawn
function createTrio(testid, names) {
  const trio = {el: el("section", "compare-trio"), caption: el("p", "caption"), note: el("p", "compare-note"),
    maps: names.map((n) => createMap(`${testid}-${n}`))};
  trio.el.dataset.testid = testid;
  const row = el("div", "compare-maps");
  row.append(...trio.maps.map((m) => m.el));
  trio.el.append(trio.caption, trio.note, row);
  return trio;
}

// left and right with their titles; their difference where the shapes match. shared:
// left and right on one colour range (a colour is one value), else each on its own
function paintTrio(trio, [left, right], [leftTitle, rightTitle], why, shared) {
  const top = Math.max(left ? absMax(left) : 0, right ? absMax(right) : 0);
  paintMap(trio.maps[0], left, shared || !left ? top : absMax(left), leftTitle);
  paintMap(trio.maps[1], right, shared || !right ? top : absMax(right), rightTitle);
  const both = Boolean(left && right), match = both && sameShape(left, right);
  const diff = match ? difference(left, right) : null;
  paintMap(trio.maps[2], diff, diff ? absMax(diff) : 0, `${leftTitle} − ${rightTitle}, elementwise`);
  const shapes = both && !match ? `The shapes differ (${leftTitle}: ${shapeText(left)}, ${rightTitle}: ` +
    `${shapeText(right)}): there is no elementwise difference to draw.` : "";
  trio.note.textContent = [why, shapes].filter(Boolean).join(" ");
  trio.note.hidden = !trio.note.textContent;
}

// a labelled drop-down of [value, text] choices
function choice(testid, words, choices) {
  const select = el("select", "compare-select"), label = el("label", "compare-pick", `${words} `);
  select.dataset.testid = testid;
  select.append(...choices.map(([value, text]) => new Option(text, value)));
  label.append(select);
  return {select, label};
}

// {element, select, colours, show(data), setColours(value)}: the pair of runs and the
// mistaken-against-true trio; a colours choice set redraws the last data drawn
export function createTensors() {
  const tensor = choice("compare-tensor", "tensor", [["auto", "this phase's"],
    ...TENSORS.map((n) => [n, n === "update" ? "ΔW (update)" : n])]);
  const colours = choice("compare-colours", "colours", [["shared", "one range for the two"], ["own", "each its own range"]]);
  const pair = createTrio("compare-pair", ["a", "b", "diff"]);
  // one for each run with a bug: run A's, or run B's when only B has one; then run B's
  const truths = ["compare-truth", "compare-truth-b"].map((id) => createTrio(id, ["mistaken", "true", "diff"]));
  const tools = el("div", "compare-tools");
  tools.append(tensor.label, colours.label);
  const element = el("div", "compare-tensors");
  element.append(tools, pair.el, ...truths.map((trio) => trio.el));
  // shared: the choice drawn (the select already shows the user's new one when it is set)
  let last = null, shared = true;
  const draw = (data) => { last = data; show(pair, truths, data, shared); };
  const setColours = (value) => {
    colours.select.value = value;
    if ((value === "shared") === shared) return;
    shared = value === "shared";
    if (last) draw(last);
  };
  return {element, select: tensor.select, colours: colours.select, show: draw, setColours};
}

function show(pair, truths, {t, l, name, sides, truths: mistakes}, shared) {
  const what = tensorLabel(name, l);
  pair.caption.textContent = `iteration ${t}, layer ${l}: ${what} of run A and of run B, and run A − run B, elementwise`;
  pair.el.dataset.iteration = String(t);
  paintTrio(pair, sides.map((s) => s.tensor || null), [`A: ${what}`, `B: ${what}`],
    sides.map((s) => s.why).filter(Boolean).join(" "), shared);
  truths.forEach((truth, k) => {
    truth.el.hidden = !mistakes[k];
    if (mistakes[k]) showTruth(truth, t, l, mistakes[k], shared);
  });
}

// the gradient a run's mistaken code computed, the true one, and their difference
function showTruth(truth, t, l, mistake, shared) {
  const g = tensorLabel(mistake.name, l);
  truth.caption.textContent = `what the mistaken code computed vs the true gradient: run ${mistake.run.name} ` +
    `(bug ${mistake.run.run.config.bug}), ${g} at iteration ${t}: the mistaken one, the true one (true_grads), and mistaken − true`;
  truth.el.dataset.iteration = String(t);
  const served = mistake.tensor && !mistake.truth ? "The server sent no true_grads for this step." : "";
  paintTrio(truth, [mistake.tensor || null, mistake.truth || null], [`mistaken ${g}`, `true ${g}`],
    [mistake.why, served].filter(Boolean).join(" "), shared);
}
