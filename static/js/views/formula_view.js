// the formula of one clicked entry of the cache inspector, with the live numbers of this
// step: Z = Σₖ W·A_prev + b, dZ = dA ⊙ g'(Z), dW = (1/m) Σ dZ·A_prev, and so on.
// it fetches the selected layer (and the next one, for dA) at full size, once per step.
import {api} from "../api.js";
import {activate, activationSlope, isFused} from "../forward_pass.js";
import {formatNumber as f, layerTensors} from "../tensors.js";

const SHOWN_TERMS = 4;
let container = null, cell = null, last = null;

const sub = (...idx) => `<sub>${idx.join(",")}</sub>`;

// "(w)(a) + (w)(a) + … + 5 more" and the exact sum of all terms
function sumOf(pairs) {
  const total = pairs.reduce((s, [p, q]) => s + p * q, 0);
  const shown = pairs.slice(0, SHOWN_TERMS).map(([p, q]) => `(${f(p)})(${f(q)})`).join(" + ");
  const more = pairs.length > SHOWN_TERMS ? ` + … (${pairs.length - SHOWN_TERMS} more terms)` : "";
  return {total, text: shown + more};
}

const at = (t, i, j) => (t ? t.data[i][j] : null);

function zFormula(T, l, i, j) {
  const s = sumOf(T.W.data[i].map((w, k) => [w, at(T.A_prev, k, j)]));
  const b = T.b.data[i][0];
  return [`Z[${l}]${sub(i, j)} = Σ<sub>k</sub> W[${l}]${sub(i, "k")} A[${l - 1}]${sub("k", j)} + b[${l}]${sub(i)}`,
    `= ${s.text} + (${f(b)})`, `= ${f(s.total + b)}   (recorded by the engine: ${f(at(T.Z, i, j))})`];
}

function aFormula(T, l, i, j, frame) {
  const act = frame.run.config.activations[l - 1], z = at(T.Z, i, j);
  const lines = [`A[${l}]${sub(i, j)} = ${act}(Z[${l}]${sub(i, j)}) = ${act}(${f(z)})`];
  let a;
  if (act === "softmax") {
    const col = T.Z.data.map((row) => row[j]), top = Math.max(...col);
    const e = col.map((v) => Math.exp(v - top)), s = e.reduce((p, q) => p + q, 0);
    a = e[i] / s;
    lines.push(`= e^z${sub(i)} / Σ<sub>k</sub> e^z${sub("k")} = ${f(a)}`);
  } else {
    a = activate(act, z);
    lines.push(`= ${f(a)}`);
  }
  if (T.D) {
    const d = at(T.D, i, j), keep = frame.run.config.keep_prob;
    lines.push(`then dropout: × D[${l}]${sub(i, j)} / keep_prob = (${f(a)}) × ${f(d)} / ${keep} = ${f((a * d) / keep)}`);
  }
  lines.push(`(recorded by the engine: ${f(at(T.A, i, j))})`);
  return lines;
}

// dZ = dA ⊙ g′(Z), with g′ from Z (the recorded A may carry the dropout mask); in a hidden
// layer with dropout the engine masks dA first: dZ = (dA ⊙ D / keep_prob) ⊙ g′(Z)
function dzFormula(T, l, i, j, frame) {
  const {activations, loss, keep_prob: keep} = frame.run.config, act = activations[l - 1];
  if (l === frame.run.L && isFused(act, loss)) {
    const a = at(T.A, i, j), y = at(frame.batch.Y, i, j);
    return [`dZ[${l}]${sub(i, j)} = A[${l}]${sub(i, j)} − Y${sub(i, j)}  (${act} with ${loss})`,
      `= ${f(a)} − ${f(y)} = ${f(a - y)}   (recorded: ${f(at(T.dZ, i, j))})`];
  }
  if (act === "softmax") {
    const col = (t) => t.data.map((row) => row[j]), A = col(T.A), dA = col(T.dA);
    const dot = dA.reduce((sum, v, k) => sum + v * A[k], 0);
    return [`dZ[${l}]${sub(i, j)} = A${sub(i, j)} (dA${sub(i, j)} − Σ<sub>k</sub> dA${sub("k", j)} A${sub("k", j)})  (softmax mixes the column)`,
      `= (${f(A[i])}) × ((${f(dA[i])}) − (${f(dot)})) = ${f(A[i] * (dA[i] - dot))}   (recorded: ${f(at(T.dZ, i, j))})`];
  }
  const dA = at(T.dA, i, j), z = at(T.Z, i, j), slope = activationSlope(act, z);
  const d = T.D ? at(T.D, i, j) : 1, scale = T.D ? d / keep : 1;
  const masked = T.D ? ` ⊙ D[${l}]${sub(i, j)} / keep_prob` : "";
  const factors = T.D ? `(${f(dA)}) × ${f(d)} / ${keep}` : `(${f(dA)})`;
  return [`dZ[${l}]${sub(i, j)} = dA[${l}]${sub(i, j)}${masked} ⊙ ${act}′(Z[${l}]${sub(i, j)}),  Z = ${f(z)}`,
    `= ${factors} × (${f(slope)}) = ${f(dA * scale * slope)}   (recorded: ${f(at(T.dZ, i, j))})`];
}

function dwFormula(T, l, i, k, frame) {
  const m = T.dZ.shape[1], l2 = frame.run.config.l2;
  const s = sumOf(T.dZ.data[i].map((dz, j) => [dz, at(T.A_prev, k, j)]));
  const reg = l2 ? ` + (λ/m) W[${l}]${sub(i, k)}` : "";
  const regValue = l2 ? (l2 / m) * T.W.data[i][k] : 0;
  return [`dW[${l}]${sub(i, k)} = (1/m) Σ<sub>j</sub> dZ[${l}]${sub(i, "j")} A[${l - 1}]${sub(k, "j")}${reg},  m = ${m}`,
    `= (1/${m}) [${s.text}]${l2 ? ` + ${f(regValue)}` : ""}`,
    `= ${f(s.total / m + regValue)}   (recorded: ${f(T.dW.data[i][k])})`];
}

function dbFormula(T, l, i) {
  const row = T.dZ.data[i], m = row.length, total = row.reduce((s, v) => s + v, 0);
  return [`db[${l}]${sub(i)} = (1/m) Σ<sub>j</sub> dZ[${l}]${sub(i, "j")},  m = ${m}`,
    `= (1/${m}) (${row.slice(0, SHOWN_TERMS).map(f).join(" + ")}${m > SHOWN_TERMS ? " + …" : ""})`,
    `= ${f(total / m)}   (recorded: ${f(T.db.data[i][0])})`];
}

function daFormula(T, next, l, i, j, frame) {
  if (l === frame.run.L) {
    return [`dA[${l}]${sub(i, j)} = ∂loss/∂A[${l}]${sub(i, j)}  (${frame.run.config.loss}, per example)`,
      `= ${f(at(T.dA, i, j))}   with A = ${f(at(T.A, i, j))}, Y = ${f(at(frame.batch.Y, i, j))}`];
  }
  const s = sumOf(next.W.data.map((row, k) => [row[i], at(next.dZ, k, j)]));
  return [`dA[${l}]${sub(i, j)} = Σ<sub>k</sub> W[${l + 1}]${sub("k", i)} dZ[${l + 1}]${sub("k", j)}  (dA_prev = Wᵀ dZ of layer ${l + 1})`,
    `= ${s.text}`, `= ${f(s.total)}   (recorded: ${f(at(T.dA, i, j))})`];
}

function plainEntry(name, T, l, i, j, frame) {
  const what = {W: `W[${l}]${sub(i, j)}: weight from unit ${j} of layer ${l - 1} to unit ${i} of layer ${l}`,
    b: `b[${l}]${sub(i)}: bias of unit ${i}`, A_prev: `A[${l - 1}]${sub(i, j)}: unit ${i} of layer ${l - 1}, example ${j}; linear_cache[${l}] keeps it for backward`,
    D: `D[${l}]${sub(i, j)}: 1 keeps unit ${i} for example ${j}, 0 drops it`}[name];
  const value = name === "W" || name === "b" ? frame.params[l - 1][name].data[i][j] : at(T[name], i, j);
  const lines = [what, `= ${f(value)}`];
  if (name === "W" || name === "b") {
    const delta = frame.params[l - 1][name === "W" ? "updateW" : "updateB"].data[i][j];
    lines.push(`after the update: ${f(value)} + (${f(delta)}) = ${f(value + delta)}`);
  }
  return lines;
}

function formula(frame, T, next, {name, row: i, col: j}) {
  const l = frame.layer;
  if (name === "Z") return zFormula(T, l, i, j);
  if (name === "A") return aFormula(T, l, i, j, frame);
  if (name === "dZ") return dzFormula(T, l, i, j, frame);
  if (name === "dW") return dwFormula(T, l, i, j, frame);
  if (name === "db") return dbFormula(T, l, i);
  if (name === "dA") return daFormula(T, next, l, i, j, frame);
  return plainEntry(name, T, l, i, j, frame);
}

async function show(frame) {
  const {run, t, layer: l} = frame;
  const layers = l < run.L ? [l, l + 1] : [l];
  const record = await api.step(run.id, t, {layers, fields: ["A_prev", "Z", "A", "D", "dA", "dZ"]});
  const p = frame.params[l - 1], T = {...layerTensors(record.layers[0]), W: p.W, b: p.b, dW: p.dW, db: p.db};
  const next = l < run.L ? {...layerTensors(record.layers[1]), W: frame.params[l].W} : null;
  const lines = formula(frame, T, next, cell);
  container.innerHTML = `<p class="formula-where">iteration ${t}, layer ${l}: ${cell.name} at row ${cell.row}, column ${cell.col}</p>` +
    lines.map((line) => `<div class="formula-line">${line}</div>`).join("");
}

export function explain(clicked) {
  cell = clicked;
  if (last) return show(last);
  return null;
}

export function update(frame) {
  const stale = !last || last.layer !== frame.layer || last.run.id !== frame.run.id;
  last = frame;
  if (stale) cell = null;
  if (!cell) {
    container.innerHTML = "<p class=\"muted\">Click any cell of a heatmap to see how that number is computed, with this step's values.</p>";
    return null;
  }
  return frame.playing ? null : show(frame);
}

export function render(element, frame) {
  container = element;
  return update(frame);
}
