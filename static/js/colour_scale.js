// the colour range of a heatmap: per tensor (its own max |value| at this step) or per run
// (one range for all steps, so colours compare across iterations).
import {absMax} from "./tensors.js";

// per-run ranges: the summary's Z/A extremes over all steps where the engine records them,
// else the largest |value| seen so far in this run (it only grows, so colours settle)
const seen = new Map();

function maxAbsSeries(series) {
  let m = 0;
  for (const v of series || []) if (v !== null && Math.abs(v) > m) m = Math.abs(v);
  return m;
}

function summaryHint(summary, name, l) {
  const stat = {Z: ["Z", l], A: ["A", l], A_prev: ["A", l - 1]}[name];
  if (!summary || !stat || stat[1] < 1) return 0;
  const layer = summary.layers[stat[1] - 1];
  return Math.max(maxAbsSeries(layer[`${stat[0]}_min`]), maxAbsSeries(layer[`${stat[0]}_max`]));
}

// max |value| for the colour scale of tensor `name` of layer l; zmid is always 0
export function colourRange(frame, name, l, tensor) {
  const own = absMax(tensor) || 1e-12;
  if (frame.scale !== "run") return own;
  const key = `${frame.run.id}:${name}:${l}`;
  const best = Math.max(own, seen.get(key) || 0, summaryHint(frame.summary, name, l));
  seen.set(key, best);
  return best;
}
