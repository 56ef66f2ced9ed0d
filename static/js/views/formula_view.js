// the formula of one clicked entry of the cache inspector, with the live numbers of this
// step: Z = Σₖ W·A_prev + b, dZ = dA ⊙ g'(Z), dW = (1/m) Σ dZ·A_prev, and so on. every
// number in it is served: the terms are the engine's inputs and the result is the engine's
// value, never a sum or an activation recomputed here. it opens beside the clicked cell (a
// popover kept on screen), and gives the entry's exact value. the views draw numbers at
// display precision (step_frame.js); the formula fetches the exact ones it shows, in
// narrow requests at full precision: the clicked example's column of the selected layer
// (and the next one, for dA) with example=i, the columns of the first terms of a sum over
// the batch (dW, db), and the parameters the formula reads. one set per click or step.
import {api} from "../api.js";
import {activationFunction} from "../course_names.js";
import {isFused} from "../fused_heads.js";
import {cachesA, dropsL2Gradient, dropsOneOverM, forgetsMask, skipsGPrime} from "../mistakes.js";
import {activeBug} from "../run_status.js";
import {formatNumber as f, layerTensors, withNaN} from "../tensors.js";

const SHOWN_TERMS = 4;
const ROUNDING = 1e-12;  // relative: two values this close are one value, rounded apart
const GAP = 14;  // px between the clicked point and the popover
// anchor: the clicked point in the panel's coordinates, so the popover scrolls with it, and
// the top and bottom of its cell's row
let container = null, cell = null, last = null, anchor = null;

const sub = (...idx) => `<sub>${idx.join(",")}</sub>`;

// the tensors with one column per example of the batch: the formula holds one column of
// each (example=i), the clicked example's (or the first one's)
const BATCH_AXIS = new Set(["A_prev", "Z", "A", "D", "dA", "dZ"]);
const COLUMN_FIELDS = ["Y", ...BATCH_AXIS];
// the parameters each formula reads (dA: W of layer l + 1)
const PARAMS_READ = {Z: ["W", "b"], dA: ["W"], dW: ["W", "dW"], db: ["db"], W: ["W", "update"], b: ["b", "update"]};

// "(w)(a) + (w)(a) + … (5 more terms)": the terms of a sum of `total` terms, each a served
// number. the sum itself is not taken here: each formula ends with the engine's value.
// zeroSum: the engine's sum is exactly 0 (then it comes from no terms in particular)
export function termsOf(pairs, total = pairs.length, zeroSum = false) {
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  // where every term is at hand, those with a factor exactly 0 (a ReLU's off units) add
  // nothing: the terms shown are the others, and the zeros are counted (no product taken)
  const zeros = total === pairs.length ? pairs.filter(([p, q]) => p === 0 || q === 0).length : 0;
  if (zeros && zeros === total) return `0  (all ${plural(total, "term")} have a factor 0)`;
  const kept = zeros ? pairs.filter(([p, q]) => p !== 0 && q !== 0) : pairs;
  const shown = kept.slice(0, SHOWN_TERMS).map(([p, q]) => `(${f(p)})(${f(q)})`).join(" + ");
  const more = total - zeros - Math.min(SHOWN_TERMS, kept.length);
  // only the first terms at hand, each with a factor 0: the sum is the others'
  const shownZero = more > 0 && !zeros && !zeroSum && pairs.every(([p, q]) => p === 0 || q === 0);
  const notes = [more > 0 ? `${plural(more, "more term")}` : "",
    zeros ? `${plural(zeros, "term")} with a factor 0 left out` : "",
    shownZero ? `the sum comes from those: the ${plural(pairs.length, "term")} shown ${pairs.length === 1 ? "is" : "are"} 0` : ""]
    .filter(Boolean).join("; ");
  return shown + (more > 0 ? " + …" : "") + (notes ? ` (${notes})` : "");
}

// a run with a classic mistake (CONTRACT §7, engine/mistakes.py) recorded the gradients of
// the mistaken code: a formula that the mistake changes is written as that code computes
// it, its wrong step named (the values would not add up to the correct formula), and
// the correct code's value (true_grads) follows wherever it differs
const MISTAKE_WORDS = {
  missing_1_over_m: "the mistake: no 1/m",
  no_activation_derivative: "the mistake: no × g′(Z), dZ is dA",
  activation_cache_holds_A: "the mistake: the activation cache holds A = g(Z), and g′ is taken at A",
  dropout_mask_forgotten_in_backward: "the mistake: dA is not multiplied by D / keep_prob",
  l2_gradient_missing: "the mistake: no + (λ/m) W",
};
const mistakeLine = (bug) => `<span class="formula-mistake">${MISTAKE_WORDS[bug]} (${bug})</span>`;

// entry (i, j) of tensor t: a batch tensor is held as the one column j of the clicked example
const at = (t, i) => (t ? t.data[i][0] : null);
// the last line of every formula: the value the engine recorded for the entry
const served = (v) => `= ${f(v)}   (recorded by the engine)`;

function zFormula(T, l, i, j) {
  const terms = termsOf(T.W.data[i].map((w, k) => [w, at(T.A_prev, k)]));
  return [`Z[${l}]${sub(i, j)} = Σ<sub>k</sub> W[${l}]${sub(i, "k")} A[${l - 1}]${sub("k", j)} + b[${l}]${sub(i)}`,
    `= ${terms} + (${f(T.b.data[i][0])})`, served(at(T.Z, i))];
}

function aFormula(T, l, i, j, frame) {
  const act = frame.run.config.activations[l - 1], z = at(T.Z, i), g = activationFunction(act);
  const lines = [`A[${l}]${sub(i, j)} = ${g}(Z[${l}]${sub(i, j)}) = ${g}(${f(z)})`];
  if (act === "softmax") lines.push(`= e<sup>Z${sub(i, j)}</sup> / Σ<sub>k</sub> e<sup>Z${sub("k", j)}</sup>  (over column ${j} of Z)`);
  if (T.D) {
    lines.push(`then dropout: × D[${l}]${sub(i, j)} / keep_prob = × ${f(at(T.D, i))} / ${frame.run.config.keep_prob}`);
  }
  lines.push(served(at(T.A, i)));
  return lines;
}

// g′(Z) in words for the served Z: relu′(Z) = 1 since Z = 0.42 > 0. the derivative's value
// is not computed here; the engine's dZ follows
function slopeText(act, z, name = "Z") {
  if (!Number.isFinite(z)) return `${act}′(${f(z)})`;
  if (act === "relu" || act === "leaky_relu") {
    const off = act === "relu" ? "0" : "0.01";
    return z > 0 ? `1  (${act}′(${name}) = 1 since ${name} = ${f(z)} > 0)`
      : `${off}  (${act}′(${name}) = ${off} since ${name} = ${f(z)} ≤ 0)`;
  }
  if (act === "linear") return "1";
  if (act === "tanh") return `(1 − tanh²(${f(z)}))`;
  return `σ(${f(z)}) (1 − σ(${f(z)}))`;
}

// dZ = dA ⊙ g′(Z), with g′ of Z (activation_cache); in a hidden layer with dropout the
// engine masks dA first: dZ = (dA ⊙ D / keep_prob) ⊙ g′(Z). a run with a mistake computes
// it as its code does (engine/mistakes.py): through dA[L] at the output too, as the
// course's L_model_backward does, without the mask or g′ where that is the mistake, or
// with g′ at the cached A
function dzFormula(T, l, i, j, frame) {
  const {activations, loss, keep_prob: keep} = frame.run.config, act = activations[l - 1];
  const bug = activeBug(frame.run);
  if (!bug && l === frame.run.L && isFused(act, loss)) {
    return [`dZ[${l}]${sub(i, j)} = A[${l}]${sub(i, j)} − Y${sub(i, j)}  (${act} with ${loss})`,
      `= (${f(at(T.A, i))}) − (${f(at(T.Y, i))})`, served(at(T.dZ, i))];
  }
  // one entry: products of numbers (×), where the tensors' formula has ⊙
  const masks = T.D && !forgetsMask(bug);
  const dA = `dA[${l}]${sub(i, j)}${masks ? ` × D[${l}]${sub(i, j)} / keep_prob` : ""}`;
  const factors = masks ? `(${f(at(T.dA, i))}) × ${f(at(T.D, i))} / ${keep}` : `(${f(at(T.dA, i))})`;
  if (skipsGPrime(bug)) {
    return [`dZ[${l}]${sub(i, j)} = ${dA}`, `= ${factors}`, mistakeLine(bug), served(at(T.dZ, i))];
  }
  const atA = cachesA(bug);
  if (act === "softmax" && atA) {
    // softmax taken again of the cached A: s is no served tensor, so no numbers of it
    return [`dZ[${l}]${sub(i, j)} = s${sub(i, j)} (dA${sub(i, j)} − Σ<sub>k</sub> dA${sub("k", j)} s${sub("k", j)}),  s = softmax(A[${l}]) of column ${j}`,
      mistakeLine(bug), served(at(T.dZ, i))];
  }
  if (act === "softmax") {
    const terms = termsOf(T.dA.data.map((row, k) => [row[0], at(T.A, k)]));
    return [`dZ[${l}]${sub(i, j)} = A${sub(i, j)} (dA${sub(i, j)} − Σ<sub>k</sub> dA${sub("k", j)} A${sub("k", j)})  (softmax mixes the column)`,
      `= (${f(at(T.A, i))}) × ((${f(at(T.dA, i))}) − [${terms}])`, served(at(T.dZ, i))];
  }
  const g = activationFunction(act), z = at(T.Z, i);
  if (atA) {
    // the cache holds g(Z) before any dropout: the served A where no mask scaled it
    const a = T.D ? null : at(T.A, i);
    const slope = a === null ? `${g}′(${g}(${f(z)}))` : slopeText(act, a, "A");
    return [`dZ[${l}]${sub(i, j)} = ${dA} × ${g}′(A[${l}]${sub(i, j)}),  A = ${g}(Z) = ${a === null ? `${g}(${f(z)})` : f(a)}`,
      `= ${factors} × ${slope}`, mistakeLine(bug), served(at(T.dZ, i))];
  }
  const unmasked = forgetsMask(bug) && T.D ? [mistakeLine(bug)] : [];
  return [`dZ[${l}]${sub(i, j)} = ${dA} × ${g}′(Z[${l}]${sub(i, j)}),  Z = ${f(z)}`,
    `= ${factors} × ${slopeText(act, z)}`, ...unmasked, served(at(T.dZ, i))];
}

// a sum over the batch: T.first holds the first examples' columns, T.m counts them all
function dwFormula(T, l, i, k, frame) {
  const {m} = T, bug = activeBug(frame.run), noM = dropsOneOverM(bug);
  const l2 = dropsL2Gradient(bug) ? 0 : frame.run.config.l2;
  const terms = termsOf(T.first.map((c) => [at(c.dZ, i), at(c.A_prev, k)]), m,
    !l2 && T.dW.data[i][k] === 0);
  const reg = l2 ? ` + (λ/m) W[${l}]${sub(i, k)}` : "";
  const named = noM || dropsL2Gradient(bug) ? [mistakeLine(bug)] : [];
  return [`dW[${l}]${sub(i, k)} = ${noM ? "" : "(1/m) "}Σ<sub>j</sub> dZ[${l}]${sub(i, "j")} A[${l - 1}]${sub(k, "j")}${reg},  m = ${m}`,
    `= ${noM ? "" : `(1/${m}) `}[${terms}]${l2 ? ` + (${l2}/${m}) (${f(T.W.data[i][k])})` : ""}`,
    ...named, served(T.dW.data[i][k])];
}

// "-0.36 + 0.21 − 0.27": served numbers summed as one writes a sum, a negative term after
// the first with its sign as the operator (not "+ -0.27"); the sum itself is not taken here
function signedSum(values) {
  return values.map((v, k) => (k === 0 ? f(v) : v < 0 ? ` − ${f(-v)}` : ` + ${f(v)}`)).join("");
}

function dbFormula(T, l, i, frame) {
  const {m} = T, row = T.first.map((c) => at(c.dZ, i)).slice(0, SHOWN_TERMS);
  const bug = activeBug(frame.run), noM = dropsOneOverM(bug);
  // only the first terms at hand, each 0: the sum is the others'
  const zeros = m > row.length && row.every((v) => v === 0) && T.db.data[i][0] !== 0
    ? `  (the sum comes from the other ${m - row.length}: the ${row.length} shown are 0)` : "";
  return [`db[${l}]${sub(i)} = ${noM ? "" : "(1/m) "}Σ<sub>j</sub> dZ[${l}]${sub(i, "j")},  m = ${m}`,
    `= ${noM ? "" : `(1/${m}) `}(${signedSum(row)}${m > SHOWN_TERMS ? " + …" : ""})${zeros}`,
    ...(noM ? [mistakeLine(bug)] : []), served(T.db.data[i][0])];
}

function daFormula(T, next, l, i, j, frame) {
  if (l === frame.run.L) {
    return [`dA[${l}]${sub(i, j)} = ∂loss/∂A[${l}]${sub(i, j)}  (${frame.run.config.loss}, per example)`,
      `= ${f(at(T.dA, i))}   with A = ${f(at(T.A, i))}, Y = ${f(at(T.Y, i))}`];
  }
  const terms = termsOf(next.W.data.map((row, k) => [row[i], at(next.dZ, k)]));
  return [`dA[${l}]${sub(i, j)} = Σ<sub>k</sub> W[${l + 1}]${sub("k", i)} dZ[${l + 1}]${sub("k", j)}  (dA_prev = Wᵀ dZ of layer ${l + 1})`,
    `= ${terms}`, served(at(T.dA, i))];
}

// entry (i, j) of T's tensor `name`: of a batch tensor, its one column held
const entry = (T, name, i, j) => (BATCH_AXIS.has(name) ? at(T[name], i) : T[name].data[i][j]);

function plainEntry(name, T, l, i, j, frame) {
  const what = {W: `W[${l}]${sub(i, j)}: weight from unit ${j} of layer ${l - 1} to unit ${i} of layer ${l}`,
    b: `b[${l}]${sub(i)}: bias of unit ${i}`, A_prev: `A[${l - 1}]${sub(i, j)}: unit ${i} of layer ${l - 1}, example ${j}; linear_cache[${l}] keeps it for backward`,
    D: `D[${l}]${sub(i, j)}: 1 keeps unit ${i} for example ${j}, 0 drops it`}[name];
  const value = entry(T, name, i, j), lines = [what, `= ${f(value)}`];
  if (name === "W" || name === "b") {
    // the sum is θ_{t+1}: recorded as iteration t + 1's parameters, shown in the update phase
    const delta = T[name === "W" ? "updateW" : "updateB"].data[i][j] ?? NaN;
    // (the page adds no numbers: without θ_{t+1} at hand, it says where the sum is shown)
    const after = T.after ? ` = ${f(T.after[name].data[i][j])}  (iteration ${frame.t + 1}'s ${name})`
      : frame.t + 1 < frame.run.num_steps ? `  (the sum: iteration ${frame.t + 1}'s ${name}, shown in the update phase)` : "";
    lines.push(`after the update: ${name} + Δ${name} = (${f(value)}) + (${f(delta)})${after}`);
  }
  return lines;
}

function formula(frame, T, next, {name, row: i, col: j}) {
  const l = frame.layer;
  if (name === "Z") return zFormula(T, l, i, j);
  if (name === "A") return aFormula(T, l, i, j, frame);
  if (name === "dZ") return dzFormula(T, l, i, j, frame);
  if (name === "dW") return dwFormula(T, l, i, j, frame);
  if (name === "db") return dbFormula(T, l, i, frame);
  if (name === "dA") return daFormula(T, next, l, i, j, frame);
  return plainEntry(name, T, l, i, j, frame);
}

// the two agree to rounding: the mistaken code's other order of operations (dA[L] ⊙ g′
// where the correct code takes A − Y) leaves the last bits apart
const alike = (p, q) => Number.isFinite(p) && Number.isFinite(q) &&
  Math.abs(p - q) <= ROUNDING * Math.max(Math.abs(p), Math.abs(q));

// a run with a mistake: the correct code's value of a gradient entry (true_grads), where
// the mistaken code's differs (compared, not computed: both are served)
function truthLine(T, {name, row, col}) {
  const truth = T.truth && T.truth[name];
  if (!truth) return [];
  const right = BATCH_AXIS.has(name) ? at(truth, row) : truth.data[row][col];
  const recorded = entry(T, name, row, col);
  if (Object.is(right, recorded) || alike(right, recorded)) return [];
  return [`the correct code gives ${f(right)}   (true_grads)`];
}

// the update phase shows W and b after the update, θ_{t+1} (cache_view.js)
const updated = (frame, name) => frame.phase.kind === "update" && (name === "W" || name === "b");

// the clicked entry's exact value: θ_{t+1}'s in the update phase, iteration t + 1's W or,
// after the last, W + ΔW
function exactValue(frame, T, {name, row, col}) {
  const value = T[name] ? entry(T, name, row, col) : null;
  if (!updated(frame, name)) return value;
  if (T.after) return T.after[name].data[row][col];
  return value + (T[name === "W" ? "updateW" : "updateB"].data[row][col] ?? NaN);
}

// the batch columns whose numbers the formula shows: the clicked example's, or the first
// terms of a sum over the batch (dW, db); the first for a parameter's own entry
function columnsOf({name, col}, m) {
  if (BATCH_AXIS.has(name)) return [col];
  if (name === "dW" || name === "db") return [...Array(Math.min(SHOWN_TERMS, m)).keys()];
  return [0];
}

// non-finite entries (a diverged step) are null in JSON: NaN keeps them out of the sums
const withNaNs = (tensors) => Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, v && v.data ? withNaN(v) : v]));

// {T, next}: layer l's (and l + 1's) exact numbers that the clicked entry's formula reads:
// one request per batch column shown, the last with the parameters read, and θ_{t+1}'s
async function exactNumbers(frame, clicked) {
  const {run, t, layer: l} = frame, {indices} = frame.batch;
  const layers = l < run.L ? [l, l + 1] : [l], params = PARAMS_READ[clicked.name] || [];
  const columns = columnsOf(clicked, indices.length);
  const records = Promise.all(columns.map((c, k) => api.step(run.id, t,
    {layers, fields: [...COLUMN_FIELDS, ...(k === columns.length - 1 ? params : [])], example: indices[c]})));
  const after = updated(frame, clicked.name) && t + 1 < run.num_steps
    ? api.step(run.id, t + 1, {layers: [l], fields: [clicked.name]}) : null;
  const [first, afterRecord] = await Promise.all([records, after]);
  const layerOf = (record, k) => withNaNs(layerTensors(record && record.layers[k]));
  const clickedColumn = first[first.length - 1], Y = clickedColumn.batch.Y && withNaN(clickedColumn.batch.Y);
  const truth = clickedColumn.layers[0].true_grads;  // a run with a bug's
  const T = {...layerOf(clickedColumn, 0), Y, m: indices.length, first: first.map((r) => layerOf(r, 0)),
    after: afterRecord ? layerOf(afterRecord, 0) : null, truth: truth ? withNaNs(truth) : null};
  return {T, next: l < run.L ? layerOf(clickedColumn, 1) : null};
}

const CLOSE = '<button type="button" class="formula-close" aria-label="close the formula">×</button>';

// the box says why it has no formula: the server did not answer, say (as the other views do)
function showFailure(err) {
  container.innerHTML = CLOSE;
  const said = document.createElement("p");
  said.className = "formula-where";
  said.textContent = `This formula's numbers could not be read: ${err.message}`;
  container.append(said);
  container.hidden = false;
  place();
}

async function show(frame) {
  const {t, layer: l} = frame, clicked = cell;
  let numbers;
  try {
    numbers = await exactNumbers(frame, clicked);
  } catch (err) {
    if (cell === clicked && last === frame) showFailure(err);
    return;
  }
  if (cell !== clicked || last !== frame) return;  // another entry or step came meanwhile
  const {T, next} = numbers;
  const lines = [...formula(frame, T, next, clicked), ...truthLine(T, clicked)];
  container.innerHTML = CLOSE +
    `<p class="formula-where">iteration ${t}, layer ${l}: ${clicked.name} at row ${clicked.row}, column ${clicked.col}` +
    `${updated(frame, clicked.name) ? " after the update" : ""} = ` +
    `<b>${f(exactValue(frame, T, clicked), 10)}</b> (exact)</p>` +
    lines.map((line) => `<div class="formula-line">${line}</div>`).join("");
  container.hidden = false;
  place();
}

// beside the clicked point, flipped to its left where the right has no room, and kept in
// the part of the panel that is on screen below the sticky step controls
function place() {
  const panel = container.parentElement;  // positioned (lens.css); offsetParent is null while hidden
  if (!panel || !anchor) return;
  const box = panel.getBoundingClientRect(), w = container.offsetWidth, h = container.offsetHeight;
  const controls = document.querySelector(".controls"), under = controls ? controls.getBoundingClientRect().bottom : 0;
  let top = Math.max(0, under - box.top), bottom = Math.min(box.height, window.innerHeight - box.top);
  if (bottom - top < h) [top, bottom] = [0, box.height];  // the panel is mostly off screen
  const left = Math.max(0, -box.left), right = Math.min(box.width, window.innerWidth - box.left);
  let x = anchor.x + GAP;
  if (x + w > right) x = anchor.x - GAP - w;
  x = Math.max(left, Math.min(x, right - w));
  // no room beside the point (a phone): under the cell's row, or over it, the side with
  // more room, leaving the cell in sight for the next tap
  const beside = anchor.x + GAP + w <= right || anchor.x - GAP - w >= left;
  let y = anchor.y - h / 3;
  if (!beside) {
    const under = anchor.bottom + GAP, over = anchor.top - GAP - h;
    y = under + h <= bottom || bottom - anchor.bottom >= anchor.top - top ? under : over;
  }
  y = Math.max(top, Math.min(y, bottom - h));
  container.style.left = `${Math.round(x)}px`;
  container.style.top = `${Math.round(y)}px`;
}

function close() {
  cell = null;
  container.hidden = true;
  container.replaceChildren();
}

// clicked: {name, row, col}; at: the clicked point on screen {x, y}
export function explain(clicked, at) {
  cell = clicked;
  const panel = container.parentElement;  // positioned (lens.css); offsetParent is null while hidden
  if (panel && at) {
    const box = panel.getBoundingClientRect();
    const y = at.y - box.top;
    anchor = {x: at.x - box.left, y, top: (at.top ?? at.y) - box.top, bottom: (at.bottom ?? at.y) - box.top};
  }
  if (last) return show(last);
  return null;
}

export function update(frame) {
  const stale = !last || last.layer !== frame.layer || last.run.id !== frame.run.id;
  last = frame;
  if (stale) close();
  if (!cell) return null;
  return frame.playing ? null : show(frame);
}

export function render(element, frame) {
  container = element;
  container.hidden = true;
  container.addEventListener("click", (e) => { if (e.target.closest(".formula-close")) close(); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && cell) close(); });
  return update(frame);
}
