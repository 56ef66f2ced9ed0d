// what the views need for one step, fetched at display size: parameters and gradients of
// every layer (small, exact), the selected layer's activations block-averaged for the
// heatmaps, the batch with the output layer's A for the model view and the diagram, and,
// with dropout, every hidden layer's mask D at full size (the example's column of it).
import {api} from "./api.js";
import {forwardColumn, backwardColumn} from "./forward_pass.js";
import {column, layerTensors, withNaN, hasNonFinite} from "./tensors.js";
import {parsePhase} from "./phases.js";

// cells per heatmap: a few hundred columns fill a panel at 1280 px; more is not visible
export const HEATMAP_CELLS = 2048;
const PARAM_FIELDS = ["W", "b", "dW", "db", "update"];
const LAYER_FIELDS = ["A_prev", "Z", "A", "D", "dA", "dZ"];
// 2-D (and 1-D) data and mini-batches send X with every step; wider full-batch data
// (digits: 64 × 1437) sends it once per run, since full-batch training uses the same X
// at every step
const INLINE_X_FEATURES = 2;

const inputsByRun = new Map();

function outputFields(run) {
  return run.dims[0] <= INLINE_X_FEATURES || run.config.batch_size !== null
    ? ["A", "X", "Y"] : ["A", "Y"];
}

const hasDropout = (run) => run.config.keep_prob < 1 && run.L > 1;

function requests(run, t, layer) {
  const hidden = [...Array(run.L - 1).keys()].map((k) => k + 1);
  return [
    api.step(run.id, t, {fields: PARAM_FIELDS}),
    api.step(run.id, t, {layers: [layer], fields: LAYER_FIELDS, maxCells: HEATMAP_CELLS}),
    api.step(run.id, t, {layers: [run.L], fields: outputFields(run)}),
    hasDropout(run) ? api.step(run.id, t, {layers: hidden, fields: ["D"]}) : Promise.resolve(null),
  ];
}

function runInputs(run) {
  if (!inputsByRun.has(run.id)) {
    inputsByRun.clear();
    inputsByRun.set(run.id, api.step(run.id, 0, {fields: ["X"]}).then((r) => r.batch.X));
  }
  return inputsByRun.get(run.id);
}

export function prefetchFrame(run, t, layer) {
  if (t >= 0 && t < run.num_steps) Promise.all(requests(run, t, layer)).catch(() => {});
}

// column j of each layer's recorded mask: [null, D[1]ⱼ, ..., D[L-1]ⱼ, null]; null when the
// server had to block-average a mask (beyond its size limit), which blurs the column
function maskColumns(run, maskRecord, j) {
  if (maskRecord.layers.some((entry) => entry.D && entry.D.downsampled_from)) return null;
  const masks = new Array(run.L + 1).fill(null);
  for (const entry of maskRecord.layers) if (entry.D) masks[entry.l] = column(entry.D, j);
  return masks;
}

// the chosen example's A, Z, dA, dZ through every layer, computed here from θ_t, this
// step's batch and its dropout masks: the numbers the engine recorded for that column
function examplePass(run, params, batch, example, maskRecord) {
  const j = Math.min(example, batch.X.shape[1] - 1);
  const plain = params.map((p) => ({W: withNaN(p.W).data, b: withNaN(p.b).data}));
  const {activations: acts, loss, keep_prob: keepProb} = run.config;
  const masks = maskRecord && maskColumns(run, maskRecord, j);
  const pass = forwardColumn(plain, acts, column(batch.X, j), masks, keepProb);
  const grads = backwardColumn(plain, acts, loss, pass, column(batch.Y, j), masks, keepProb);
  return {j, index: batch.indices ? batch.indices[j] : j, masks, ...pass, ...grads};
}

// θ_{t+1}, which the update phase writes: the parameters of step t + 1 (the request that
// the next iteration makes, so usually fetched already), or null after the last step
async function paramsAfter(run, t, phase) {
  if (phase.kind !== "update" || t + 1 >= run.num_steps) return null;
  const record = await api.step(run.id, t + 1, {fields: PARAM_FIELDS});
  return record.layers.map(layerTensors);
}

export async function loadFrame(session, view) {
  const {run} = session;
  const t = Math.min(view.iteration, run.num_steps - 1);
  const layer = Math.min(Math.max(view.layer, 1), run.L), phase = parsePhase(view.phase, run.L);
  const [[paramRecord, layerRecord, outputRecord, maskRecord], after] = await Promise.all(
    [Promise.all(requests(run, t, layer)), paramsAfter(run, t, phase)]);
  const X = outputRecord.batch.X || await runInputs(run);
  const batch = {...outputRecord.batch, X, AL: outputRecord.layers[0].A};
  const params = paramRecord.layers.map(layerTensors);
  return {
    run, summary: session.summary, histograms: session.histograms, options: session.options,
    t, cost: paramRecord.cost, epoch: paramRecord.epoch, layer,
    phase, params, paramsAfter: after, selected: layerTensors(layerRecord.layers[0]),
    // a diverged step: the views say that θ or the output holds non-finite values
    finite: !params.some((p) => hasNonFinite(p.W) || hasNonFinite(p.b)) && !hasNonFinite(batch.AL),
    batch, example: examplePass(run, params, batch, view.example, maskRecord),
    scale: view.scale, big: view.big,
  };
}
