// plain diagnoses of one step, from the summary's per-layer statistics, in the order a
// learner should read them: a gradient that is not finite; units that are all the same
// (the symmetry problem); a gradient of exactly 0; a vanishing or exploding gradient,
// against fixed bounds and against the other layers; an update too large or too small.
// every number is the engine's: the page only compares them.
import {formatNumber} from "./tensors.js";

export const VANISHING = 1e-7;
export const EXPLODING = 1e3;
// a layer whose ‖dW‖ is below 1/RELATIVE of the largest layer's vanishes beside it, one
// above RELATIVE × the smallest layer's explodes
export const RELATIVE = 1e3;
// cs231n's rule of thumb: a healthy update changes W by about 1e-3 of its size per step
const RATIO_LOW = 1e-5, RATIO_HIGH = 1e-1;
// units differ by no more than rounding: BLAS may round one row of a product differently
// from another, so units that a constant init made equal drift apart by ~1e-16
const SAME_UNITS = 1e-10;

const finite = Number.isFinite;

// all units of hidden layer s are the same at step t: their biases and weights spread
// (engine.stats) no further than rounding of their size. the engine measures the weights'
// spread only where the biases agree (else null); a layer of one unit has nothing to compare
export function identicalUnits(s, t, units) {
  const spread = s.W_row_spread && s.W_row_spread[t], bias = s.b_spread && s.b_spread[t];
  return units > 1 && finite(spread) && finite(bias) &&
    spread <= SAME_UNITS * s.W_norm[t] && bias <= SAME_UNITS * s.b_max_abs[t];
}

// ‖ΔW‖/‖W‖, or "—" and why there is none
export function ratioText(s, t) {
  const r = s.update_ratio[t], W = s.W_norm[t];
  if (finite(r)) return formatNumber(r, 3);
  if (W === 0) return "— (W is all zeros)";
  return finite(W) ? "— (ΔW is not finite)" : "— (W is not finite)";
}

// a null norm is a divergence only when the run says so: a norm can overflow to ∞ while
// every entry of dW is still a finite number
function notFinite(frame, l) {
  const d = frame.run.diverged;
  if (d && frame.t >= d.step) return `layer ${l}: ‖dW‖ is not a finite number: training diverged at iteration ${d.step}`;
  return `layer ${l}: ‖dW‖ overflowed (too large for a float), though dW's entries are finite: an exploding gradient`;
}

// the layers' largest and smallest non-zero ‖dW‖ at step t, with their layer numbers, and
// which side of a gap of more than RELATIVE is flagged. a gap makes the small layers
// vanish beside the large ones and the large ones explode beside the small ones: the
// output layer, whose gradient comes straight from the loss and not through the chain of
// the layers above it, tells which. small layers vanish unless the output layer is one of
// them; large layers explode unless the output layer is one of them
function extremes(layers, t) {
  const norms = layers.filter((s) => finite(s.dW_norm[t]) && s.dW_norm[t] > 0).map((s) => [s.dW_norm[t], s.l]);
  if (!norms.length) return null;
  const by = (pick) => norms.reduce((a, b) => (pick(a[0], b[0]) === a[0] ? a : b));
  const [top, topLayer] = by(Math.max), [low, lowLayer] = by(Math.min);
  const out = layers[layers.length - 1].dW_norm[t];
  const small = out < top / RELATIVE, large = out > low * RELATIVE, both = small && large;
  return {top, topLayer, low, lowLayer, vanish: both || !small, explode: both || !large};
}

const times = (a, b) => `${formatNumber(a / b, 2)} × `;

// the gradient's flag for one layer, or null: symmetry is named before the size of dW
function gradientFlag(frame, s, x) {
  const t = frame.t, g = s.dW_norm[t], l = s.l, run = frame.run;
  if (!finite(g)) return ["bad", notFinite(frame, l)];
  const exact = g === 0 ? "; ‖dW‖ = 0 exactly" : "";
  if (l < run.L && identicalUnits(s, t, run.dims[l])) {
    if (g === 0 && noGradientThrough(frame, l)) return ["bad", noGradientText(l, run.dims[l])];
    return ["bad", `layer ${l}: all ${run.dims[l]} units are identical (the symmetry problem): they ` +
      `compute the same function, get the same gradient and stay the same${exact}. ` +
      "A constant init does this; random weights break the symmetry"];
  }
  if (g === 0) return ["warn", zeroGradientText(frame, s)];
  // (a layer above EXPLODING does not vanish beside a larger one: every gradient exploded)
  if (x && x.vanish && g < x.top / RELATIVE && g <= EXPLODING) {
    return ["warn", `layer ${l}: vanishing gradient: ‖dW‖ = ${formatNumber(g)}, ${times(g, x.top)}layer ${x.topLayer}'s (${formatNumber(x.top)})`];
  }
  if (g < VANISHING) return ["warn", `layer ${l}: vanishing gradient, ‖dW‖ = ${formatNumber(g)} < ${VANISHING}: this layer barely learns`];
  if (x && x.explode && g > x.low * RELATIVE) {
    return ["bad", `layer ${l}: exploding gradient: ‖dW‖ = ${formatNumber(g)}, ${times(g, x.low)}layer ${x.lowLayer}'s (${formatNumber(x.low)})`];
  }
  if (g > EXPLODING) return ["bad", `layer ${l}: exploding gradient, ‖dW‖ = ${formatNumber(g)} > ${EXPLODING}`];
  return null;
}

// a zero init with g(0) = 0 (relu, tanh) is not the symmetry problem (units that learn, all
// alike): no W learns at all. A[l] = g(0) = 0 keeps dW[l+1] = (1/m) dZ[l+1]·A[l]ᵀ at 0, so
// W[l+1] stays 0, and so does dA[l] = W[l+1]ᵀ dZ[l+1], which keeps dW[l] at 0. the summary
// shows it: W[l] and W[l+1] are both all zeros
function noGradientThrough(frame, l) {
  const {layers} = frame.summary, t = frame.t;
  return layers[l - 1].W_norm[t] === 0 && layers[l].W_norm[t] === 0;
}

function noGradientText(l, units) {
  return `layer ${l}: no gradient reaches W[${l}], which is all zeros: dA[${l}] = W[${l + 1}]ᵀ dZ[${l + 1}] ` +
    `is 0 while W[${l + 1}] is all zeros too, so ‖dW‖ = 0 exactly and its ${units} units stay identical. ` +
    "A zero init does this where g(0) = 0 (relu, tanh); with sigmoid the units learn, but all alike " +
    "(the symmetry problem)";
}

// ‖dW‖ = 0 stops W[l]; the layer stops only if ‖db‖ = 0 too: db = (1/m) Σ dZ is not 0 when
// A_prev is 0 (dead relus below) and dZ is not, so then b[l] still learns
function zeroGradientText(frame, s) {
  const l = s.l, db = s.db_norm ? s.db_norm[frame.t] : undefined, why = zeroInput(frame, l);
  if (db === 0) return `layer ${l}: ‖dW‖ = ‖db‖ = 0 exactly: this layer does not learn at this step${why || zeroDZ(frame, s)}`;
  const b = !finite(db) ? "" : db > EXPLODING
    ? `. b[${l}] still learns, from an exploding gradient: ‖db‖ = ${formatNumber(db)} > ${EXPLODING}`
    : `. b[${l}] still learns: ‖db‖ = ${formatNumber(db)}`;
  return `layer ${l}: ‖dW‖ = 0 exactly: W[${l}] does not learn at this step${why}${b}`;
}

// dW and db are 0 together when dZ[l] is: say why, when the summary shows it — no
// gradient reaches the layer (dA[l] = 0), or its relus are all dead (g′(Z) = 0)
function zeroDZ(frame, s) {
  const t = frame.t, l = s.l, at = (name) => (s[name] ? s[name][t] : undefined);
  if (at("dZ_max_abs") !== 0) return "";
  if (at("dA_max_abs") === 0) return `: no gradient reaches it (dA[${l}] is all zeros), so dZ[${l}] is 0`;
  if (at("dead_fraction") === 1) {
    return `: every ReLU unit of layer ${l} is dead on this batch (Z[${l}] ≤ 0), so dZ = dA · g′(Z) is 0`;
  }
  return `: dZ[${l}] is all zeros`;
}

// dW = (1/m) dZ·A_prevᵀ is 0 whenever A_prev is: say so when the summary shows it, and
// that the relus below are dead where they all are and their W is not the zero init's
function zeroInput(frame, l) {
  const below = frame.summary.layers[l - 2], t = frame.t;
  if (!below || below.A_min[t] !== 0 || below.A_max[t] !== 0) return "";
  const dead = below.dead_fraction && below.dead_fraction[t] === 1 && below.W_norm[t] > 0
    ? ` (every ReLU unit of layer ${l - 1} is dead on this batch)` : "";
  return `: its input A[${l - 1}] is all zeros${dead}, so dW = (1/m) dZ·A[${l - 1}]ᵀ is 0`;
}

// an update over RATIO_HIGH is large; the learning rate is suspect where the cost then rose.
// early in training a small layer may take such steps while the cost falls (the default
// run's output layer does): that is said as a fact, not as a warning. the fall is the
// cost's from this step to the next (at the last step, to this one from the step before);
// a mini-batch's cost is another batch's at the next step, so only a full batch's counts
function ratioFlag(frame, s, quiet) {
  const {summary, t} = frame, r = s.update_ratio[t];
  if (finite(r) && r > RATIO_HIGH) {
    const change = `layer ${s.l}: this update changes W by ${formatNumber(100 * r, 2)} %`;
    const cost = summary.cost || [], at = t + 1 < cost.length ? t + 1 : t;
    const before = cost[at - 1], after = cost[at];
    const fullBatch = !(frame.run.config && frame.run.config.batch_size);
    if (fullBatch && at > 0 && finite(before) && finite(after) && after < before) {
      return ["info", `${change}, far above the usual 0.1 %, and the cost still falls (${formatNumber(before)} → ${formatNumber(after)})`];
    }
    return ["warn", `${change} — the learning rate may be too large`];
  }
  // a flagged gradient already says the update is tiny
  if (finite(r) && r > 0 && r < RATIO_LOW && !quiet) return ["info", `layer ${s.l}: updates change W by only ${formatNumber(r)} of its size`];
  return null;
}

// [[kind, text], ...] for step frame.t: kind is "bad", "warn", "info" or "ok"
export function flagLines(frame) {
  const {summary, t} = frame, x = extremes(summary.layers, t), lines = [];
  for (const s of summary.layers) {
    const gradient = gradientFlag(frame, s, x), ratio = ratioFlag(frame, s, Boolean(gradient));
    lines.push(...[gradient, ratio].filter(Boolean));
  }
  return lines.length ? lines : [["ok", `iteration ${t}: every layer's ‖dW‖ is between ${VANISHING} and ` +
    `${EXPLODING}, and within ${RELATIVE}× of the other layers'`]];
}
