// what the views need for one step, fetched at display size: parameters and gradients of
// every layer (small, exact), the selected layer's activations block-averaged for the
// heatmaps, the batch with the output layer's A for the model view, one training
// example's column through every layer for the diagram (example=i), and the engine's
// decision boundary or fit. the page computes no network maths: every number is served.
import {api} from "./api.js";
import {layerTensors, hasNonFinite} from "./tensors.js";
import {parsePhase} from "./phases.js";

// cells per heatmap: a few hundred columns fill a panel at 1280 px; more is not visible
export const HEATMAP_CELLS = 2048;
// grid points per side of the served decision boundary: the 60 × 60 picture is smoothed
// on screen, and a finer grid costs JSON without a visible change; while playing, a
// quarter of the points keeps up with the frames (the paused frame is drawn at 60 again)
export const BOUNDARY_RESOLUTION = 60;
const PLAYING_RESOLUTION = 30;
const PARAM_FIELDS = ["W", "b", "dW", "db", "update"];
const LAYER_FIELDS = ["A_prev", "Z", "A", "D", "dA", "dZ"];
const EXAMPLE_FIELDS = ["X", "Z", "A", "D", "dA", "dZ"];
// 2-D (and 1-D) data draw their points, so X comes with the output; wider data only needs
// the output A and Y (the confusion matrix)
const INLINE_X_FEATURES = 2;

// run id -> the training set's indices, once a full-batch step has said them: the example
// request of a full-batch run then goes out with the others instead of after them
const fullBatchIndices = new Map();

const outputFields = (run) => (run.dims[0] <= INLINE_X_FEATURES ? ["A", "X", "Y"] : ["A", "Y"]);
const outputRequest = (run, t) => api.step(run.id, t, {layers: [run.L], fields: outputFields(run)});
const hasBoundary = (run) => run.dims[0] <= INLINE_X_FEATURES;

// the training examples step t can show: its batch's indices, ascending
const sorted = new WeakMap();  // indices -> ascending copy (a full batch's, every frame)
function choices(indices) {
  if (!sorted.has(indices)) sorted.set(indices, [...indices].sort((a, b) => a - b));
  return sorted.get(indices);
}

// the example to show: the wanted one when it is in the batch, else (a mini-batch that
// does not hold it) the batch's first; so the route never answers 422
function chosen(indices, wanted) {
  return indices.includes(wanted) ? wanted : indices[0];
}

const knownIndices = (run) => fullBatchIndices.get(run.id) ?? null;

// {indices, wanted, record}: step t's batch indices and the chosen example's served column
async function exampleColumn(run, t, wanted) {
  let indices = knownIndices(run);
  if (!indices) {
    const {batch} = await outputRequest(run, t);
    indices = batch.indices;
    // (a batch_size of at least m is full-batch too, but cannot be told from one step)
    if (run.config.batch_size === null) fullBatchIndices.set(run.id, indices);
  }
  const example = chosen(indices, wanted);
  return {indices, wanted, record: await api.step(run.id, t, {example, fields: EXAMPLE_FIELDS})};
}

// step t's parameters. once a full-batch run's examples are known, they come with the
// example's column (example=i leaves W, b, dW, db and the update whole): one request
// fewer per step
function parameters(run, t, wanted) {
  const indices = knownIndices(run);
  return indices ? api.step(run.id, t, {example: chosen(indices, wanted), fields: [...EXAMPLE_FIELDS, ...PARAM_FIELDS]})
    : api.step(run.id, t, {fields: PARAM_FIELDS});
}

// every request of step t, at once
function requests(run, t, layer, wanted, playing) {
  const resolution = playing ? PLAYING_RESOLUTION : BOUNDARY_RESOLUTION;
  const indices = knownIndices(run), params = parameters(run, t, wanted);
  return [
    params,
    api.step(run.id, t, {layers: [layer], fields: LAYER_FIELDS, maxCells: HEATMAP_CELLS}),
    outputRequest(run, t),
    indices ? params.then((record) => ({indices, wanted, record})) : exampleColumn(run, t, wanted),
    hasBoundary(run) ? api.boundary(run.id, t, resolution) : Promise.resolve(null),
  ];
}

// the example and play state of the last frame drawn: what a prefetch of the next steps
// asks for
let last = {example: 0, playing: false};

export function prefetchFrame(run, t, layer, example = last.example) {
  if (t >= 0 && t < run.num_steps) Promise.all(requests(run, t, layer, example, last.playing)).catch(() => {});
}

// a served column (n, 1) as numbers; a JSON null (NaN or ±∞) becomes NaN, which the
// diagram marks, rather than 0
const columnOf = (t) => (t ? t.data.map((row) => (row[0] === null ? NaN : row[0])) : null);

// the example's path as served: A[0] = X, then per layer l = 1..L its Z, A, dA, dZ and
// dropout mask D (null without dropout); index 0 of Z, dA, dZ is unused (no dA[0])
function servedPath({indices, wanted, record}) {
  const index = record.batch.indices[0], A = [columnOf(record.batch.X)];
  const Z = [null], dA = [null], dZ = [null], masks = [null];
  for (const entry of record.layers) {
    const T = layerTensors(entry);
    A.push(columnOf(T.A));
    Z.push(columnOf(T.Z));
    dA.push(columnOf(T.dA));
    dZ.push(columnOf(T.dZ));
    masks.push(columnOf(T.D));
  }
  return {index, wanted, j: indices.indexOf(index), choices: choices(indices),
    A, Z, dA, dZ, masks: masks.some(Boolean) ? masks : null};
}

// θ_{t+1}, which the update phase writes: the parameters of step t + 1 (the request that
// the next iteration makes, so usually fetched already), or null after the last step
async function paramsAfter(run, t, phase, wanted) {
  if (phase.kind !== "update" || t + 1 >= run.num_steps) return null;
  const record = await parameters(run, t + 1, wanted);
  return record.layers.map(layerTensors);
}

export async function loadFrame(session, view) {
  const {run} = session;
  const t = Math.min(view.iteration, run.num_steps - 1);
  const layer = Math.min(Math.max(view.layer, 1), run.L), phase = parsePhase(view.phase, run.L);
  last = {example: view.example, playing: Boolean(view.playing)};
  const [[paramRecord, layerRecord, outputRecord, column, boundary], after] = await Promise.all(
    [Promise.all(requests(run, t, layer, view.example, last.playing)), paramsAfter(run, t, phase, view.example)]);
  const batch = {...outputRecord.batch, AL: outputRecord.layers[0].A};
  const params = paramRecord.layers.map(layerTensors);
  return {
    run, summary: session.summary, histograms: session.histograms, options: session.options,
    t, cost: paramRecord.cost, epoch: paramRecord.epoch, layer,
    phase, params, paramsAfter: after, selected: layerTensors(layerRecord.layers[0]),
    // a diverged step: the views say that θ or the output holds non-finite values
    finite: !params.some((p) => hasNonFinite(p.W) || hasNonFinite(p.b)) && !hasNonFinite(batch.AL),
    batch, example: servedPath(column), boundary,
    scale: view.scale, big: view.big,
  };
}
