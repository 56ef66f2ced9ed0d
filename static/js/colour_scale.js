// the colour range of a heatmap: per tensor (its own max |value| at this step) or per run
// (one range for all steps, so colours compare across iterations). a run's range comes
// only from the summary, which the server computes over every step, so a shared link
// shows the same colours whatever steps this browser fetched before.
import {absMax} from "./tensors.js";

// tensor -> the summary statistics of layer (l + offset) that bound its |values|
const RUN_STATS = {
  W: [0, ["W_max_abs"]], b: [0, ["b_max_abs"]], dW: [0, ["dW_max_abs"]], db: [0, ["db_max_abs"]],
  Z: [0, ["Z_min", "Z_max"]], A: [0, ["A_min", "A_max"]], A_prev: [-1, ["A_min", "A_max"]],
};
const cache = new WeakMap();  // summary -> Map("name:l" -> max |value| over the run, or null)

// the largest finite |value| of a series, or null when none is finite
function maxAbsSeries(series) {
  let m = null;
  for (const v of series) if (Number.isFinite(v) && (m === null || Math.abs(v) > m)) m = Math.abs(v);
  return m;
}

// max |value| of tensor `name` of layer l over every step, or null without a statistic
// (none for dZ and dA; a big network's W and dW are not measured: all null)
function summaryRange(summary, name, l) {
  if (!RUN_STATS[name]) return null;
  const [offset, keys] = RUN_STATS[name], layer = summary.layers[l + offset - 1];
  if (!layer || !keys.every((k) => Array.isArray(layer[k]))) return null;
  const tops = keys.map((k) => maxAbsSeries(layer[k]));
  return tops.includes(null) ? null : Math.max(...tops);
}

function runRange(frame, name, l) {
  // X, layer 1's A_prev, is the same at every step of full-batch training: its own range
  // is the run's
  if (name === "A_prev" && l === 1 && frame.run.config.batch_size === null) return absMax(frame.selected.A_prev);
  if (!cache.has(frame.summary)) cache.set(frame.summary, new Map());
  const known = cache.get(frame.summary), key = `${name}:${l}`;
  if (!known.has(key)) known.set(key, summaryRange(frame.summary, name, l));
  return known.get(key);
}

// {top: max |value| for the colour scale of tensor `name` of layer l (zmid is always 0),
// perRun: whether it is the run's range}. asked for the run's range, a tensor whose range
// the server does not serve (dZ, dA, a mini-batch's X) keeps its own, and says so
export function colourRange(frame, name, l, tensor) {
  const own = absMax(tensor) || 1e-12;
  if (frame.scale !== "run") return {top: own, perRun: false};
  const run = runRange(frame, name, l);
  return run === null ? {top: own, perRun: false} : {top: run || 1e-12, perRun: true};
}

// whether the run's range of this tensor is served (else the heatmap falls back)
export const hasRunRange = (frame, name, l) => name === "D" || runRange(frame, name, l) !== null;
