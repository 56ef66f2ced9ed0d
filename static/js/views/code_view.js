// code panel: the course's NumPy lines for the current phase, with this run's live shapes
// and numbers in the comments.
import {formatNumber} from "../tensors.js";
import {activationFunction} from "../course_names.js";
import {trainedFused} from "../fused_heads.js";
import {addsStep, cachesA, dropsL2Gradient, dropsOneOverM, forgetsMask, skipsGPrime} from "../mistakes.js";
import {hasMask} from "../phases.js";
import {activeBug} from "../run_status.js";

let container = null;

const shape = (r, c) => `(${r}, ${c})`;
const G_CODE = {
  relu: "A = np.maximum(0, Z)", leaky_relu: "A = np.where(Z > 0, Z, 0.01 * Z)",
  tanh: "A = np.tanh(Z)", sigmoid: "A = 1 / (1 + np.exp(-Z))", linear: "A = Z",
  softmax: "A = np.exp(Z) / np.sum(np.exp(Z), axis=0)",
};
const G_PRIME_CODE = {
  relu: "dZ = dA * (Z > 0)", leaky_relu: "dZ = dA * np.where(Z > 0, 1, 0.01)",
  tanh: "dZ = dA * (1 - np.tanh(Z) ** 2)", sigmoid: "s = 1 / (1 + np.exp(-Z)); dZ = dA * s * (1 - s)",
  linear: "dZ = dA",
  softmax: "s = np.exp(Z - Z.max(0)); s /= s.sum(0); dZ = s * (dA - np.sum(dA * s, axis=0))",
};

// a run with a classic mistake (run_status.js activeBug): its lines are the mistaken
// code's, each marked, as training ran them
const MISTAKE = "the mistake (bug)";

function forwardLines(frame, l) {
  const {dims, config, L} = frame.run, m = frame.batch.Y.shape[1], act = config.activations[l - 1];
  const atA = cachesA(activeBug(frame.run));
  const lines = [
    [`# layer ${l} of ${L}: linear_activation_forward(A_prev, W${l}, b${l}, "${act}")`],
    ["Z, linear_cache = linear_forward(A_prev, W, b)", `Z = np.dot(W, A_prev) + b`],
    ["", `Z ${shape(dims[l], m)} = W ${shape(dims[l], dims[l - 1])} · A_prev ${shape(dims[l - 1], m)} + b ${shape(dims[l], 1)}`],
    [`A, activation_cache = ${activationFunction(act)}(Z)`, `${G_CODE[act]}  → ${shape(dims[l], m)}`],
  ];
  if (atA) lines.push(["activation_cache = A", `${MISTAKE}: the cache should hold Z[${l}]`]);
  if (hasMask(l, L, config)) lines.push(
    ["D = np.random.rand(*A.shape) < keep_prob", `dropout mask, keep_prob = ${config.keep_prob}`],
    ["A = A * D / keep_prob", `the next layer sees this A[${l}]; D[${l}] is kept for backward`]);
  lines.push(["cache = (linear_cache, activation_cache)", `((A[${l - 1}], W[${l}], b[${l}]), ${atA ? "A" : "Z"}[${l}])`],
    ["caches.append(cache)", `caches[${l - 1}] in Python's 0-based list`]);
  return lines;
}

const COST_CODE = {
  binary_cross_entropy: ["cost = -1/m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))",
    "dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))"],
  categorical_cross_entropy: ["cost = -1/m * np.sum(Y * np.log(AL))", "dAL = -Y / AL"],
  mse: ["cost = 1/(2*m) * np.sum((AL - Y) ** 2)", "dAL = AL - Y"],
};

function costLines(frame) {
  const {config, dims, L} = frame.run, m = frame.batch.Y.shape[1];
  const [cost, dAL] = COST_CODE[config.loss];
  const lines = [[`# cost: ${config.loss}, AL = A[${L}] ${shape(dims[L], m)}`],
    ["m = Y.shape[1]", `${m} examples in this batch`], [cost, `J = ${formatNumber(frame.cost)}`]];
  if (config.l2) lines.push(["cost += lambd/(2*m) * sum(np.sum(np.square(W)) for W in Ws)", `λ = ${config.l2}`]);
  lines.push([dAL, `dA[${L}] ${shape(dims[L], m)}: the start of backward`]);
  return lines;
}

// dropout as the engine does it: layer l+1 passes dA[l] = W[l+1]ᵀ dZ[l+1] unmasked, and
// layer l's own backward masks it with its D[l] before g′: dZ = (dA ⊙ D / keep_prob) ⊙ g′(Z)
// a run with a mistake takes the output layer through dA[L] and g′ as the course does
// (CONTRACT §7), where the engine otherwise fuses g′ with the loss
function dZLines(frame, l, act, m) {
  const {dims, config, L} = frame.run, out = shape(dims[l], m), bug = activeBug(frame.run);
  const course = [`dZ = ${activationFunction(act)}_backward(dA, activation_cache)`, `${G_PRIME_CODE[act]} → ${out}`];
  // the course's line, and the value the engine computes it as (the same number, but exact
  // where AL rounds to 0 or 1, where the course's dAL divides by 0)
  if (trainedFused(frame.run, l)) {
    return [course, [`# = AL - Y: ${act}′ cancels with dAL of ${config.loss}; the engine computes dZ[${L}] so`]];
  }
  const lines = [];
  if (hasMask(l, L, config)) {
    lines.push(forgetsMask(bug)
      ? ["# no dA = dA * D / keep_prob", `${MISTAKE}: D[${l}] and 1/keep_prob are not applied, so dropped units get a gradient`]
      : ["dA = dA * D / keep_prob", `dropout: D[${l}] of forward, keep_prob = ${config.keep_prob}; dropped units get no gradient`]);
  }
  if (skipsGPrime(bug)) lines.push(["dZ = dA", `${MISTAKE}: the factor g′(Z) is forgotten → ${out}`]);
  else if (cachesA(bug)) {
    lines.push([`dZ = ${activationFunction(act)}_backward(dA, activation_cache)`, `${MISTAKE}: g′ is taken at the cached A[${l}], not Z[${l}] → ${out}`]);
  } else lines.push(course);
  return lines;
}

// dW and db as this run computes them: without 1/m, or without L2's term, in a run of that
// mistake
function gradientLines(frame, l) {
  const {dims, config} = frame.run, bug = activeBug(frame.run);
  const dW = shape(dims[l], dims[l - 1]), db = shape(dims[l], 1);
  if (dropsOneOverM(bug)) {
    return [[`dW = np.dot(dZ, A_prev.T)${config.l2 ? " + lambd/m * W" : ""}`, `${MISTAKE}: no 1/m → ${dW}`],
      ["db = np.sum(dZ, axis=1, keepdims=True)", `${MISTAKE}: no 1/m → ${db}`]];
  }
  const l2 = !config.l2 ? ["", dW] : dropsL2Gradient(bug)
    ? ["", `${MISTAKE}: no + lambd/m * W → ${dW}`] : [" + lambd/m * W", dW];
  return [[`dW = 1/m * np.dot(dZ, A_prev.T)${l2[0]}`, l2[1]], ["db = 1/m * np.sum(dZ, axis=1, keepdims=True)", db]];
}

function backwardLines(frame, l) {
  const {dims, config, L} = frame.run, m = frame.batch.Y.shape[1], act = config.activations[l - 1];
  return [[`# layer ${l}: linear_activation_backward(dA, caches[${l - 1}], "${act}")`],
    ["linear_cache, activation_cache = cache", `cache[${l}] from the forward pass`],
    ...dZLines(frame, l, act, m),
    ["A_prev, W, b = linear_cache", `${shape(dims[l - 1], m)}, ${shape(dims[l], dims[l - 1])}, ${shape(dims[l], 1)}`],
    ["m = A_prev.shape[1]", `${m}`],
    ...gradientLines(frame, l),
    ["dA_prev = np.dot(W.T, dZ)", l > 1 ? `dA[${l - 1}] ${shape(dims[l - 1], m)}, for layer ${l - 1}` +
      (!hasMask(l - 1, L, config) ? "" : forgetsMask(activeBug(frame.run))
        ? `, whose backward should apply D[${l - 1}] (this run's forgets it)` : `, whose backward applies D[${l - 1}]`)
      : "dA[0] (not needed: X is not learned)"]];
}

const UPDATE_CODE = {
  gd: [["W = W - learning_rate * dW"], ["b = b - learning_rate * db"]],
  momentum: [["v = beta * v + (1 - beta) * dW"], ["W = W - learning_rate * v", "same for b"]],
  rmsprop: [["s = beta2 * s + (1 - beta2) * dW ** 2"], ["W = W - learning_rate * dW / (np.sqrt(s) + epsilon)", "same for b"]],
  adam: [["v = beta1 * v + (1 - beta1) * dW"], ["s = beta2 * s + (1 - beta2) * dW ** 2"],
    ["v_corrected = v / (1 - beta1 ** t)"], ["s_corrected = s / (1 - beta2 ** t)", "t = {t}"],
    ["W = W - learning_rate * v_corrected / (np.sqrt(s_corrected) + epsilon)", "same for b"]],
};

function updateLines(frame) {
  const {config, L} = frame.run, adds = addsStep(activeBug(frame.run));
  // the mistake adds the optimizer's step: W = W + …, in every optimizer's last line(s)
  const body = UPDATE_CODE[config.optimizer].map(([code, note]) => (adds && /^([Wb]) = \1 - /.test(code)
    ? ["    " + code.replace(" - ", " + "), `${MISTAKE}: + instead of −${note ? `; ${note}` : ""}`]
    : ["    " + code, (note || "").replace("{t}", String(frame.t + 1))]));
  return [[`# update_parameters: ${config.optimizer}, learning_rate α = ${config.learning_rate}`],
    [`for l in range(1, ${L + 1}):`, `every layer, with its own dW[l], db[l]`], ...body];
}

function linesFor(frame) {
  const {kind, l} = frame.phase;
  if (kind === "forward") return forwardLines(frame, l);
  if (kind === "backward") return backwardLines(frame, l);
  if (kind === "cost") return costLines(frame);
  return updateLines(frame);
}

export function update(frame) {
  const rows = linesFor(frame).map(([code, note]) => {
    const line = document.createElement("div");
    line.className = code.startsWith("#") ? "code-line code-heading" : "code-line";
    const c = document.createElement("code");
    c.textContent = code;
    line.append(c);
    if (note) {
      const n = document.createElement("span");
      n.className = "code-note";
      n.textContent = `# ${note}`;
      line.append(n);
    }
    return line;
  });
  container.replaceChildren(...rows);
  return null;
}

export function render(element, frame) {
  container = element;
  return update(frame);
}
