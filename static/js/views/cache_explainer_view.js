// cache explainer: a plain answer to "what is inside linear_cache and activation_cache?",
// filled with the selected layer's real shapes and a few of this step's values: W and b as
// served, and the chosen example's column as the engine recorded it (example=i), dropout
// masks included.
import {formatNumber as f, shapeText} from "../tensors.js";
import {activationFunction} from "../course_names.js";
import {isFused} from "../fused_heads.js";
import {forgetsMask} from "../mistakes.js";
import {setHTML} from "../dom.js";

const PREVIEW = 4;
let container = null;

const preview = (v) => `[${v.slice(0, PREVIEW).map((x) => f(x, 3)).join(", ")}${v.length > PREVIEW ? ", …" : ""}]`;
const G_PRIME = {relu: "dZ = dA · (Z > 0)", leaky_relu: "dZ = dA · (1 if Z > 0 else 0.01)",
  tanh: "dZ = dA · (1 − tanh²(Z))", sigmoid: "dZ = dA · σ(Z)(1 − σ(Z))", linear: "dZ = dA",
  softmax: "dZ = A ⊙ (dA − Σₖ dAₖ Aₖ)"};

// the example's column is the recorded one (example=i): with dropout, after its masks
function exampleNote(frame) {
  const ex = frame.example, {keep_prob: keepProb} = frame.run.config;
  const which = ex.index === ex.j ? `example ${ex.j}` : `example ${ex.index} (column ${ex.j} of this batch)`;
  if (keepProb >= 1 || frame.run.L < 2) return `this step's values for ${which}`;
  return `this step's values for ${which}, with its dropout masks D`;
}

function dropoutStep(frame, l) {
  const {L, config} = frame.run;
  if (l === L || config.keep_prob >= 1) return "";
  return `, then drops units: <code>A[${l}] = A[${l}] ⊙ D[${l}] / ${config.keep_prob}</code> (D[${l}] is kept for backward too)`;
}

function backwardRule(frame, l, act) {
  const {L, config} = frame.run;
  if (l === L && isFused(act, config.loss)) return "for this output layer it simplifies to dZ = A − Y";
  const rule = G_PRIME[act];
  if (l === L || config.keep_prob >= 1) return rule;
  return forgetsMask(config.bug) ? `${rule}; the correct code first masks dA as in forward, dA ⊙ D[${l}] / keep_prob, ` +
    "and this run's mistaken code does not"
    : `${rule}, where dA is first masked as in forward: dA ⊙ D[${l}] / keep_prob`;
}

function html(frame) {
  const l = frame.layer, {L, config} = frame.run, p = frame.params[l - 1];
  const ex = frame.example, act = config.activations[l - 1];
  const m = frame.batch.Y.shape[1], aPrev = l === 1 ? "X = A[0]" : `A[${l - 1}]`;
  const aPrevShape = `${frame.run.dims[l - 1]} × ${m}`, zShape = `${frame.run.dims[l]} × ${m}`;
  const next = l < L ? `<p>A[${l}] itself is not in layer ${l}'s cache: it is the next layer's A_prev, so it is stored in linear_cache[${l + 1}].</p>` : "";
  return `<h3>What is inside linear_cache and activation_cache? <span class="muted">(layer ${l}, iteration ${frame.t})</span></h3>
<p>Forward in layer ${l} computes <code>Z[${l}] = W[${l}]·A[${l - 1}] + b[${l}]</code>${l === 1 ? " (A[0] = X)" : ""}, then <code>A[${l}] = ${activationFunction(act)}(Z[${l}])</code>${dropoutStep(frame, l)}, and saves what backward will need:</p>
<ul>
<li><code>linear_cache[${l}] = (A_prev, W, b)</code> = (${aPrev} <b>${aPrevShape}</b>, W[${l}] <b>${shapeText(p.W)}</b>, b[${l}] <b>${shapeText(p.b)}</b>): the inputs of the linear step.
  Here W[${l}] row 0 = ${preview(p.W.data[0])}, b[${l}] = ${preview(p.b.data.map((r) => r[0]))}, and column ${ex.j} of A_prev = ${preview(ex.A[l - 1])}.</li>
<li><code>activation_cache[${l}] = Z</code> = Z[${l}] <b>${zShape}</b>: the input of the activation. Column ${ex.j}: ${preview(ex.Z[l])}.</li>
<li><code>cache[${l}] = (linear_cache, activation_cache)</code>. <code>L_model_forward</code> returns <code>caches</code>, one per layer: cache[1] … cache[${L}] (Python's list indexes them 0 … ${L - 1}).</li>
</ul>
<p class="muted">Columns shown: ${exampleNote(frame)}.</p>
<p><b>Backward reads them.</b> <code>${activationFunction(act)}_backward(dA, activation_cache)</code> needs Z for g′(Z): ${backwardRule(frame, l, act)}.
<code>linear_backward(dZ, linear_cache)</code> needs A_prev for <code>dW = (1/m) dZ·A_prevᵀ</code> (m = ${m}), W for <code>dA_prev = Wᵀ·dZ</code>, and b only for its shape (<code>db = (1/m) Σ dZ</code>). Without the caches, backward would have to run the forward pass again.</p>
${next}`;
}

export function update(frame) {
  setHTML(container, html(frame));
  return null;
}

export function render(element, frame) {
  container = element;
  return update(frame);
}
