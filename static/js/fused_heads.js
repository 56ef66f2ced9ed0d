// output activation + loss pairs whose dZ[L] simplifies to A − Y: the engine's fused heads
// (engine/losses.py). a table of names, no maths: the views say which formula applies.
import {activeBug} from "./run_status.js";

const FUSED = {sigmoid: "binary_cross_entropy", softmax: "categorical_cross_entropy"};

export const isFused = (activation, loss) => FUSED[activation] === loss;

// whether training computed layer l's dZ as A − Y, never its dA[L]: the output layer of a
// fused pair, in a run whose mistake (if any) does not take it through dA[L] and g′ as the
// course does (CONTRACT §7)
export const trainedFused = (run, l) =>
  l === run.L && isFused(run.config.activations[run.L - 1], run.config.loss) && !activeBug(run);
