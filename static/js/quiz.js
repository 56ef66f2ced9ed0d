// predict, then reveal: one question about the structure of the phase on screen, built
// from the frame (this run's dims, batch size and served tensors), and its verdict. pure:
// no DOM, no storage; the card (views/quiz_view.js) draws what these functions return.
// a question is {key, kind, title, prompt, context, multi, options: [{id, label, right, note}],
// why: [line, …], evidence: null | {caption, rows: [[cell, …], …], zero: [bool, …]}}; an
// option's `right` is true, false, or null for "either counts"; its note says why, in the
// reveal. kinds: "shape" (quiz_shapes.js), "reads", "relu" (where dZ must be 0), "direction"
// (which way a weight moves in the update).
import {addsStep, forgetsMask, skipsGPrime} from "./mistakes.js";
import {hasMask, phaseKey, phaseIndex, phaseLabel, phaseList, readNames} from "./phases.js";
import {activeBug} from "./run_status.js";
import {fullShape, formatNumber as f} from "./tensors.js";
import {shapeQuestion} from "./quiz_shapes.js";
import {isFused} from "./fused_heads.js";

// what every question is built from: the layer sizes n[0..L], the batch size m, the config
// (its bug: the classic mistake the run's code makes, if it changes a number)
export function runFacts(frame) {
  const {dims, L, config} = frame.run;
  return {dims, L, config: {...config, bug: activeBug(frame.run)}, m: fullShape(frame.batch.Y)[1]};
}

const optimizerText = (config) => `${config.optimizer}, α = ${config.learning_rate}`;

// ---- which cache entries the phase reads: the truth is phases.js's table ----

// the option ids that phase p reads (A_prev: the phase's input A[l−1])
export const readIds = readNames;

// [id, label, note when read, note when not read] per phase kind
function readChoices(p, {L, config}) {
  const l = p.l, prev = l === 1 ? "A[0] = X" : `A[${l - 1}]`;
  if (p.kind === "cost") {
    return [["A", `A[${L}] = ŷ`, `the loss compares ŷ = A[${L}] with Y`, ""],
      ["Z", `Z[${L}]`, "", `the loss is written on ŷ = A[${L}], not on Z[${L}]`],
      ["Y", "Y", "the labels of the batch", ""],
      ["W", `W[1..${L}]`, `the L2 term (λ/2m) Σ‖W[l]‖² reads every W (λ = ${config.l2})`, "without L2 (λ = 0) the cost never sees W"]];
  }
  if (p.kind === "update") {
    const sign = addsStep(config.bug) ? "+ α·step (the mistake; the correct code subtracts it)" : "− α·step";
    return [["W", `W[1..${L}]`, `W ← W ${sign}`, ""], ["b", `b[1..${L}]`, `b ← b ${sign}`, ""],
      ["dW", `dW[1..${L}]`, "the step follows the gradients", ""], ["db", `db[1..${L}]`, "the step follows the gradients", ""],
      ["Z", `Z[1..${L}]`, "", "the caches are done with: the update needs θ and the gradients only"],
      ["A", `A[1..${L}]`, "", "the caches are done with: the update needs θ and the gradients only"]];
  }
  const forward = p.kind === "forward", linear = `Z[${l}] = W[${l}] A_prev + b[${l}]`;
  // the classic mistakes' code reads A[l] for g′, or forgets D[l] (phases.js's table)
  const mistakenA = `the mistake: this run's activation_cache holds A[${l}], and its backward takes g′ at A[${l}] (the correct code's reads Z[${l}])`;
  const choices = [
    ["A_prev", `A_prev = ${prev}`, forward ? linear : `dW[${l}] = (1/m) dZ[${l}] A_prevᵀ`, ""],
    ["W", `W[${l}]`, forward ? linear : `dA[${l - 1}] = W[${l}]ᵀ dZ[${l}]`, ""],
    ["b", `b[${l}]`, linear, ""],
    ["Z", `Z[${l}]`, `activation_cache: g′(Z[${l}]) in dZ = dA ∗ g′(Z)`,
      forward ? `forward writes Z[${l}] into activation_cache` : skipsGPrime(config.bug)
        ? `the mistake: this run's backward takes dZ = dA and never opens activation_cache (the correct code's takes g′(Z[${l}]))`
        : mistakenA],
    ["A", `A[${l}]`, forward ? "" : mistakenA, forward ? `forward writes A[${l}] = g(Z[${l}])`
      : skipsGPrime(config.bug) ? `this run's backward takes no g′ at all, at Z[${l}] or A[${l}]`
        : `backward evaluates g′ at Z, not at A[${l}]: that is why activation_cache holds Z`],
  ];
  if (hasMask(p.l, L, config)) {
    const forgotten = `the mistake: this run's backward forgets D[${l}]; the correct code masks dA[${l}] again, dA ∗ D / keep_prob`;
    choices.push(["D", `D[${l}]`, `dA[${l}] is masked again: dA ∗ D / keep_prob`,
      forward || !forgetsMask(config.bug) ? `forward draws the mask D[${l}]: it writes it` : forgotten]);
  }
  return choices;
}

// the shape of what an option names, for the reveal's "reads A_prev = A[1] (8 × 320), …"
function readShape(id, p, {dims, m, L}) {
  const l = p.kind === "cost" ? L : p.l;
  const shapes = {A_prev: [dims[l - 1], m], W: [dims[l], dims[l - 1]], b: [dims[l], 1], Z: [dims[l], m],
    A: [dims[l], m], D: [dims[l], m], Y: [dims[L], m]};
  const known = p.kind !== "update" && !(p.kind === "cost" && id === "W") && shapes[id];
  return known ? ` (${known[0]} × ${known[1]})` : "";
}

// answers that count either way, with why: backward unpacks b with linear_cache but needs
// only its shape; an output layer fused with its loss reads Z[L] in the course's
// sigmoid_backward(dA, activation_cache), and A[L] only in the shortcut dZ = A − Y that the
// engine takes (the code panel shows both)
function eitherWay(p, {L, config}) {
  if (p.kind !== "backward") return {};
  const notes = {b: "linear_backward unpacks A_prev, W, b = linear_cache, but only b's shape matters: db = (1/m) Σ dZ"};
  if (p.l === L && isFused(config.activations[L - 1], config.loss) && !skipsGPrime(config.bug)) {
    notes.A = `the course's ${config.activations[L - 1]}_backward(dA, activation_cache) reads Z[${L}], not A[${L}]; ` +
      `only the shortcut dZ = A[${L}] − Y, which this engine takes, reads ŷ = A[${L}]`;
  }
  return notes;
}

export function readsQuestion(p, facts) {
  const {L, config} = facts, reads = readIds(p, L, config), either = eitherWay(p, facts);
  const options = readChoices(p, facts).map(([id, label, yes, no]) => {
    const right = either[id] ? null : reads.has(id);
    return {id, label, right, note: either[id] || (right === false ? no : yes)};
  });
  const where = p.kind === "cost" || p.kind === "update" ? p.kind : phaseLabel(p);
  const rightOnes = options.filter((o) => o.right === true), unread = options.filter((o) => o.right === false);
  const read = rightOnes.map((o) => `${o.label}${readShape(o.id, p, facts)}`);
  const because = [...new Set(rightOnes.map((o) => o.note).filter(Boolean))].join("; ");
  const upstream = p.kind === "backward" ? `, and dA[${p.l}] from ${p.l === L ? "the cost" : `backward · layer ${p.l + 1}`} (not a cache entry)` : "";
  return {kind: "reads", multi: true, options,
    prompt: `Which does ${where} read?`,
    context: "pick every one it reads",
    why: [`${where} reads ${read.join(", ")}${upstream}: ${because}.`,
      ...(unread.length ? [`Not read: ${unread.map((o) => `${o.label} — ${o.note}`).join("; ")}.`] : [])]};
}

// ---- where dZ must be 0 under ReLU, with the example's served Z, dA and dZ ----

const EVIDENCE_UNITS = 2;  // of each side: a narrow card still shows them all

// the first units with Z ≤ 0 and with Z > 0, in unit order: dZ = 0 beside dZ = dA
function evidenceUnits(Z) {
  const off = [], on = [];
  Z.forEach((z, i) => { if (Number.isFinite(z)) (z <= 0 ? off : on).push(i); });
  return [...off.slice(0, EVIDENCE_UNITS), ...on.slice(0, EVIDENCE_UNITS)].sort((a, b) => a - b);
}

function reluQuestion(p, frame) {
  const l = p.l, ex = frame.example, prev = l === 1 ? "X" : `A[${l - 1}]`;
  const options = [
    {id: "z-off", label: `Z[${l}] ≤ 0`, right: true, note: "relu′(z) = 0 for z ≤ 0"},
    {id: "z-on", label: `Z[${l}] > 0`, right: false, note: "there relu′ = 1, so dZ = dA passes through"},
    {id: "dA-off", label: `dA[${l}] ≤ 0`, right: false, note: `dA's sign does not matter: the gate is relu′(Z[${l}]), from activation_cache`},
    {id: "prev-off", label: `${prev} ≤ 0`, right: false, note: `${prev} enters only through Z[${l}] = W[${l}] ${prev} + b[${l}]`},
  ];
  const units = evidenceUnits(ex.Z[l]), row = (name, v) => [name, ...units.map((i) => f(v[i], 3))];
  const masked = !(ex.masks && ex.masks[l]) ? ""
    : forgetsMask(activeBug(frame.run)) ? ` This run's mistaken code does not mask dA[${l}] with dropout's D[${l}], so a dropped unit's dZ is 0 only where Z[${l}] ≤ 0.`
      : ` dZ is 0 also where dropout's D[${l}] is 0: dA[${l}] was masked.`;
  return {kind: "relu", multi: false, options,
    prompt: `dZ[${l}] must be 0 wherever …`,
    context: `backward · layer ${l} computes dZ[${l}] = dA[${l}] ∗ relu′(Z[${l}]); layer ${l} is ReLU, and Z[${l}], dA[${l}], dZ[${l}] are ${frame.run.dims[l]} × ${runFacts(frame).m}`,
    why: [`relu′(z) = 1 for z > 0 and 0 for z ≤ 0 (relu′(0) = 0 here), so dZ[${l}] = dA[${l}] ∗ relu′(Z[${l}]) is 0 ` +
      `wherever Z[${l}] ≤ 0, whatever dA[${l}] is.${masked}`],
    // the example's served column: units across, Z, dA and dZ down
    evidence: {caption: `this run, example ${ex.index} (column ${ex.j} of the batch)`,
      rows: [[`example ${ex.index}, unit`, ...units.map(String)], row(`Z[${l}]`, ex.Z[l]), row(`dA[${l}]`, ex.dA[l]), row(`dZ[${l}]`, ex.dZ[l])],
      zero: units.map((i) => ex.dZ[l][i] === 0)}};
}

// ---- which way a weight moves in the update, graded by the served update ----

// the entry of dW[l] with the largest finite |value| whose served update is finite too
export function strongestEntry(dW, update) {
  let best = null;
  dW.data.forEach((row, i) => row.forEach((g, k) => {
    const u = update.data[i][k];
    if (!Number.isFinite(g) || !Number.isFinite(u) || g === 0) return;
    if (!best || Math.abs(g) > Math.abs(dW.data[best.i][best.k])) best = {i, k};
  }));
  return best;
}

const STEP_RULES = {
  gd: (c, g) => `gd: W ← W − α dW, so W moves against dW's sign: ΔW = −α dW = −${c.learning_rate} × ${g < 0 ? `(${f(g)})` : f(g)}.`,
  momentum: (c) => `momentum: v ← β v + (1 − β) dW, W ← W − α v (β = ${c.beta}). W moves against v, an average of recent gradients: usually dW's sign, but not when earlier gradients pointed the other way.`,
  rmsprop: (c) => `rmsprop: s ← β₂ s + (1 − β₂) dW², W ← W − α dW / (√s + ε) (β₂ = ${c.beta2}): √s only rescales the step, so W moves against dW.`,
  adam: (c) => `adam: W ← W − α v̂ / (√ŝ + ε), where v̂ averages recent gradients (β₁ = ${c.beta1}): usually dW's sign, but not when earlier gradients pointed the other way.`,
};

function directionQuestion(frame, l, at) {
  const p = frame.params[l - 1], {i, k} = at, g = p.dW.data[i][k], step = p.updateW.data[i][k];
  const entry = `W[${l}][${i}, ${k}]`, sign = g > 0 ? "positive" : "negative";
  const moved = step < 0 ? "down" : step > 0 ? "up" : "stay";
  const options = [["down", "down: it decreases"], ["up", "up: it increases"], ["stay", "nowhere: it stays"]]
    .map(([id, label]) => ({id, label, right: id === moved, note: ""}));
  const after = frame.paramsAfter ? `; ${entry}: ${f(p.W.data[i][k])} → ${f(frame.paramsAfter[l - 1].W.data[i][k])}` : "";
  const against = Math.sign(step) === -Math.sign(g) ? "against" : "with";
  const {config} = frame.run, rule = !addsStep(activeBug(frame.run)) ? STEP_RULES[config.optimizer](config, g)
    : `the mistake: this run's code adds the ${config.optimizer} step, W ← W + α·step, where the correct code subtracts it` +
      (config.optimizer === "gd" ? `: ΔW = +α dW = ${config.learning_rate} × ${g < 0 ? `(${f(g)})` : f(g)}, so W moves with dW's sign.` : ".");
  return {kind: "direction", multi: false, options,
    prompt: `dW[${l}][${i}, ${k}] = ${f(g)}, ${sign}. Which way does the update move ${entry}?`,
    context: `${entry} weighs unit ${k} of ${l === 1 ? "the input X" : `layer ${l - 1}`} into unit ${i} of layer ${l}; ` +
      `dW[${l}]'s largest entry. This run's optimizer: ${optimizerText(frame.run.config)}.`,
    why: [rule,
      `served: ΔW[${l}][${i}, ${k}] = ${f(step)}, so ${entry} moved ${moved === "stay" ? "nowhere" : moved}, ${against} dW${after}.`]};
}

// ---- choosing and judging ----

// the entry of the selected layer's dW that the update question asks about, or null
const updateEntry = (frame) => strongestEntry(frame.params[frame.layer - 1].dW, frame.params[frame.layer - 1].updateW);

// the kinds that phase p can ask at this frame
export function questionKinds(p, frame) {
  if (p.kind === "update") return updateEntry(frame) ? ["direction"] : ["reads"];
  // (the classic mistake dZ = dA has no gate to ask about)
  const relu = p.kind === "backward" && frame.run.config.activations[p.l - 1] === "relu" &&
    !skipsGPrime(activeBug(frame.run));
  return ["shape", "reads", ...(relu ? ["relu"] : [])];
}

// the kind that phase p asks: it turns with the iteration and the phase, and is not the
// kind that the phase before asked when the phase has another (so the walk through one
// iteration varies)
export function chooseKind(p, frame) {
  const list = phaseList(frame.run.L), k = phaseIndex(phaseKey(p), frame.run.L);
  let before = null, kind = null;
  for (let i = 0; i <= k; i++) {
    const kinds = questionKinds(list[i], frame);
    kind = kinds[(frame.t + i) % kinds.length];
    if (kind === before && kinds.length > 1) kind = kinds[(frame.t + i + 1) % kinds.length];
    before = kind;
  }
  return kind;
}

// a small deterministic shuffle: the same view asks the same question in the same order
function shuffled(items, seed) {
  const out = [...items];
  let s = (seed * 2654435761) >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export const questionKey = (frame) => `${frame.run.id}|${frame.t}|${phaseKey(frame.phase)}`;

// the question of the frame's phase: its kind turns with the iteration and the phase
export function makeQuestion(frame) {
  const p = frame.phase, facts = runFacts(frame), k = phaseIndex(phaseKey(p), facts.L);
  const kind = chooseKind(p, frame);
  const built = kind === "shape" ? shapeQuestion(p, facts, frame.t)
    : kind === "relu" ? reluQuestion(p, frame)
      : kind === "direction" ? directionQuestion(frame, frame.layer, updateEntry(frame))
        : readsQuestion(p, facts);
  const options = built.multi ? built.options : shuffled(built.options, frame.t * 31 + k);
  return {evidence: null, ...built, options, key: questionKey(frame),
    title: `${p.kind === "cost" || p.kind === "update" ? p.kind : phaseLabel(p)} · iteration ${frame.t}`};
}

// {right, wrongPicks: the picked options that are wrong, missed: right ones not picked}
export function judge(question, picked) {
  const chosen = (o) => picked.has(o.id);
  const wrongPicks = question.options.filter((o) => chosen(o) && o.right === false);
  const missed = question.options.filter((o) => !chosen(o) && o.right === true);
  return {right: wrongPicks.length === 0 && missed.length === 0 && picked.size > 0, wrongPicks, missed};
}
