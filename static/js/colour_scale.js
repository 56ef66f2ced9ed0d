// the colour scale of each cache inspector heatmap. every range is exact: it comes from
// the summary's statistics of the step (or of the whole run), which the server computes
// on the full tensors, never from the block-averaged heatmap, whose means underestimate
// the extremes. scales:
//   shared: one range for the layer's forward tensors (A_prev, W, b, Z, A) and one for its
//           gradients (dA, dZ, dW, db) at this step, so a tiny Z reads as near zero next to
//           X ≈ ±2 (the default);
//   tensor: each tensor its own range at this step;
//   run:    each tensor its range over every step, so colours compare across iterations;
//   symlog: the shared ranges on sign(x)·log10(1 + |x|/ε), ε = range / SYMLOG_DECADES_RATIO.
// zero is always the middle colour (white).
import {trainedFused} from "./fused_heads.js";
import {absMax} from "./tensors.js";

export const SCALES = ["shared", "tensor", "run", "symlog"];
// the scales that give each tensor its own range (the heatmaps; the network's edges, each
// layer's); the others share one among tensors
export const OWN_RANGES = new Set(["tensor", "run"]);
export const FORWARD = ["A_prev", "W", "b", "Z", "A"];
export const GRADIENTS = ["dA", "dZ", "dW", "db"];
// symlog's ε is this fraction of the range: the colours span 3 decades below the top
export const SYMLOG_EPSILON = 1e-3;
const TINY = 1e-300;  // an all-zero tensor: every cell is 0, so white, whatever the top

// tensor -> [layer offset, summary statistics whose |values| bound it]; A_prev of layer 1
// is X, whose statistic is the summary's top-level X_max_abs
const STATS = {
  W: [0, ["W_max_abs"]], b: [0, ["b_max_abs"]], dW: [0, ["dW_max_abs"]], db: [0, ["db_max_abs"]],
  Z: [0, ["Z_min", "Z_max"]], A: [0, ["A_min", "A_max"]], A_prev: [-1, ["A_min", "A_max"]],
  dZ: [0, ["dZ_max_abs"]], dA: [0, ["dA_max_abs"]],
};

// the statistic's series of tensor `name` of layer l: [series, ...] or null when the
// summary does not serve them (an older server, or a big network's skipped maxima)
function seriesOf(summary, name, l) {
  if (name === "A_prev" && l === 1) return Array.isArray(summary.X_max_abs) ? [summary.X_max_abs] : null;
  if (!STATS[name]) return null;
  const [offset, keys] = STATS[name], layer = summary.layers[l + offset - 1];
  if (!layer || !keys.every((k) => Array.isArray(layer[k]))) return null;
  return keys.map((k) => layer[k]);
}

const finiteAbs = (v) => (typeof v === "number" && Number.isFinite(v) ? Math.abs(v) : null);

// max |value| of the tensor at step t, or null where a statistic is missing or not finite
export function stepTop(summary, name, l, t) {
  const series = seriesOf(summary, name, l);
  if (!series) return null;
  const tops = series.map((s) => finiteAbs(s[t]));
  return tops.includes(null) ? null : Math.max(...tops);
}

const runCache = new WeakMap();  // summary -> Map("name:l" -> max over the run, or null)

// max |value| of the tensor over every step of the run, or null without a statistic
export function runTop(summary, name, l) {
  if (!runCache.has(summary)) runCache.set(summary, new Map());
  const known = runCache.get(summary), key = `${name}:${l}`;
  if (!known.has(key)) {
    const series = seriesOf(summary, name, l);
    let top = null;
    if (series) {
      for (const s of series) for (const v of s) { const a = finiteAbs(v); if (a !== null && (top === null || a > top)) top = a; }
    }
    known.set(key, top);
  }
  return known.get(key);
}

// {top, exact, from} of one tensor: its step's statistic (θ_{t+1}'s for the W and b that
// the update phase shows), the run's, or, without one, the largest value drawn, which
// is exact for a full-size tensor and a lower bound for a block-averaged one. A step
// without its statistic (a diverged step's tensor that holds a non-finite value) is not
// in the run's either, and its finite values may pass every other step's: the run's
// range then holds the drawn ones too
function tensorTop(frame, name, tensor, perRun) {
  const {summary, layer: l, run} = frame;
  const after = frame.phase.kind === "update" && (name === "W" || name === "b");
  const t = after ? frame.t + 1 : frame.t;
  const own = t < run.num_steps ? stepTop(summary, name, l, t) : null;
  const served = perRun ? runTop(summary, name, l) : own;
  if (served !== null && own !== null) return {top: served, exact: true, from: perRun ? "run" : "step"};
  const drawn = {top: absMax(tensor), exact: !tensor.downsampled_from, from: "heatmap"};
  if (served !== null && drawn.exact && served >= drawn.top) return {top: served, exact: true, from: "run"};
  return served === null ? drawn : {...drawn, top: Math.max(served, drawn.top)};
}

// the shared range of a group: the largest of its members' ranges
function groupTop(tops, names) {
  const members = names.map((n) => tops[n]).filter(Boolean);
  return {top: Math.max(0, ...members.map((m) => m.top)), exact: members.every((m) => m.exact),
    from: members.some((m) => m.from === "heatmap") ? "heatmap" : "step"};
}

// {name: {top, exact, from, eps, group}} for every tensor of T (the D mask has its own
// fixed 0..1 scale and is left out). scale: one of SCALES (anything else reads as shared)
export function colourScales(frame, T) {
  const scale = SCALES.includes(frame.scale) ? frame.scale : "shared";
  const tops = {};
  for (const name of [...FORWARD, ...GRADIENTS]) if (T[name]) tops[name] = tensorTop(frame, name, T[name], scale === "run");
  if (OWN_RANGES.has(scale)) return tops;
  const out = {}, apart = apartNames(frame), together = (n) => !apart.includes(n);
  const groups = [["forward", FORWARD.filter(together)], ["gradients", GRADIENTS.filter(together)],
    ...apart.map((n) => ["own", [n]])];
  for (const [group, names] of groups) {
    const shared = groupTop(tops, names);
    const eps = scale === "symlog" ? Math.max(shared.top * SYMLOG_EPSILON, TINY) : null;
    // own: the tensor's own range, so a tensor that the shared range washes out can say so
    for (const n of names) if (tops[n]) out[n] = {...shared, eps, group, own: tops[n].top};
  }
  return out;
}

// whether the shared ranges leave dA of the layer shown out of its gradients' range: the
// output layer's dA[L] where the engine fuses g′ with the loss (dZ[L] = A − Y). training
// never computes that dA[L] (the record recomputes it), and for softmax or sigmoid with
// cross-entropy it is −Y/A, unbounded as A → 0 (±1e10 at the digits lesson): in the
// gradients' range it would wash out dZ, dW and db, whose dZ = A − Y is the layer's point.
// a run with a mistake goes through dA[L] (CONTRACT §7): it stays in the range there
const outputDAApart = (frame) => trainedFused(frame.run, frame.layer);

// whether the layer shown is a sigmoid or softmax output: its A = ŷ holds probabilities,
// in (0, 1), beside logits Z[L] that reach ±17 (the digits lesson) or ±130 (a climbing
// sigmoid): in the shared range they drew white where a tour says "ten probabilities
// that sum to 1" or "A[3] is exactly 1"
function probabilityOutput(frame) {
  const {run, layer: l} = frame;
  return l === run.L && ["sigmoid", "softmax"].includes(run.config.activations[l - 1]);
}

// the tensors of the layer shown that keep their own range under the shared scales
export const apartNames = (frame) => [...(probabilityOutput(frame) ? ["A"] : []),
  ...(outputDAApart(frame) ? ["dA"] : [])];

const symlog = (x, eps) => Math.sign(x) * Math.log10(1 + Math.abs(x) / eps);

// value -> its place on the colour scale, 0 (−top) .. 0.5 (zero) .. 1 (+top)
export function positionOf(range) {
  const top = Math.max(range.top, TINY);
  if (range.eps) {
    const span = symlog(top, range.eps);
    return (v) => 0.5 + symlog(v, range.eps) / (2 * span);
  }
  return (v) => 0.5 + v / (2 * top);
}
