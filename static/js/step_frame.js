// what the views need for one step, at display size and display precision (docs/api.md,
// "Lean answers"): the parameters and gradients of every layer to DISPLAY_DIGITS significant
// digits, the selected layer's activations block-averaged for the heatmaps at a byte per
// cell, one training example's column through every layer for the diagram (example=i, in
// full), the batch, and the engine's decision boundary or fit (a byte per grid point) or,
// for wider data, the class it predicts for each example. what a full-batch run never
// changes (X, Y, and so layer 1's A_prev) is fetched once per run. the page computes no
// network maths: every number is served; the cell formula (formula_view.js) fetches the
// exact numbers it shows.
import {api} from "./api.js";
import {layerTensors, hasNonFinite} from "./tensors.js";
import {parsePhase} from "./phases.js";
import {trainedAt} from "./run_session.js";

// cells per heatmap: a few hundred columns fill a panel at 1280 px; more is not visible
export const HEATMAP_CELLS = 2048;
// grid points per side of the served decision boundary: the 60 × 60 picture is smoothed
// on screen, and a finer grid costs bytes without a visible change; while playing, a
// quarter of the points keeps up with the frames (the paused frame is drawn at 60 again)
export const BOUNDARY_RESOLUTION = 60;
const PLAYING_RESOLUTION = 30;
// the parameters' significant digits: what the views print (tensors.js formatNumber)
export const DISPLAY_DIGITS = 4;
// a heatmap's colours: a byte per cell is the colour scale's own resolution (256 colours).
// symlog spreads 3 decades below the top over the scale, which a byte on a linear range
// cannot carry: there, 3 significant digits a cell
const HEATMAP_FORM = {encoding: "u8"}, SYMLOG_FORM = {digits: 3};
const BOUNDARY_FORM = {encoding: "u8delta", digits: 6};  // a smooth map; digits: the grid's axes
const PARAM_FIELDS = ["W", "b", "dW", "db", "update"];
const LAYER_FIELDS = ["A_prev", "Z", "A", "D", "dA", "dZ"];
const EXAMPLE_FIELDS = ["X", "Z", "A", "D", "dA", "dZ"];
// 2-D (and 1-D) data draw their points, so X comes with the batch; wider data only needs
// Y (the confusion matrix)
const INLINE_X_FEATURES = 2;
const KEPT_RUNS = 4;  // runs whose constant tensors stay in memory

const batchFields = (run) => (run.dims[0] <= INLINE_X_FEATURES ? ["X", "Y"] : ["Y"]);
const hasBoundary = (run) => run.dims[0] <= INLINE_X_FEATURES;
// the same training set in the same order at every step: its batch is the run's (a
// batch_size of at least m is full-batch too, but cannot be told from the run info)
const fullBatch = (run) => run.config.batch_size === null;
// a step at or after the first non-finite value (the run info's diverged) may hold NaN
// or ±∞ in its output; only there is the output fetched, in full, to tell
const suspect = (run, t) => Boolean(run.diverged) && t >= run.diverged.step;

// run id -> {name: Promise}: what a full-batch run serves the same at every step
const constants = new Map();

function runConstant(run, name, fetch) {
  if (!constants.has(run.id)) {
    constants.set(run.id, {});
    if (constants.size > KEPT_RUNS) constants.delete(constants.keys().next().value);
  }
  const kept = constants.get(run.id);
  if (!(name in kept)) {
    kept[name] = fetch();
    kept[name].catch(() => delete kept[name]);  // failures are not kept
  }
  return kept[name];
}

// {X?, Y, indices} of step t's batch: a full batch's exact, once; a mini-batch's per step
function batchOf(run, t) {
  const ask = (step, form) => api.step(run.id, step, {layers: [run.L], fields: batchFields(run), ...form})
    .then((record) => record.batch);
  return fullBatch(run) ? runConstant(run, "batch", () => ask(0, {})) : ask(t, {digits: DISPLAY_DIGITS});
}

// the selected layer's tensors for the heatmaps; a full batch's A_prev of layer 1 is X
function heatmaps(run, t, layer, scale) {
  const form = scale === "symlog" ? SYMLOG_FORM : HEATMAP_FORM;
  const ask = (step, fields) => api.step(run.id, step, {layers: [layer], fields, maxCells: HEATMAP_CELLS, ...form})
    .then((record) => layerTensors(record.layers[0]));
  if (layer !== 1 || !fullBatch(run)) return ask(t, LAYER_FIELDS);
  const input = runConstant(run, `A_prev ${JSON.stringify(form)}`, () => ask(0, ["A_prev"]));
  return Promise.all([ask(t, LAYER_FIELDS.slice(1)), input]).then(([T, X]) => ({...T, A_prev: X.A_prev}));
}

// step t's parameters, to display precision (the update phase reads them for θ_{t+1} too)
const parameters = (run, t) => api.step(run.id, t, {fields: PARAM_FIELDS, digits: DISPLAY_DIGITS});

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

// {indices, wanted, record}: step t's batch indices and the chosen example's served column
async function exampleColumn(run, t, wanted, batch) {
  const {indices} = await batch;
  const example = chosen(indices, wanted);
  return {indices, wanted, record: await api.step(run.id, t, {example, fields: EXAMPLE_FIELDS})};
}

// what the model does: the boundary or fit over a grid, or each example's predicted class
function model(run, t, playing) {
  const resolution = playing ? PLAYING_RESOLUTION : BOUNDARY_RESOLUTION;
  if (hasBoundary(run)) return api.boundary(run.id, t, resolution, BOUNDARY_FORM);
  return run.task === "regression" ? Promise.resolve(null) : api.predictions(run.id, t);
}

const output = (run, t) => (suspect(run, t)
  ? api.step(run.id, t, {layers: [run.L], fields: ["A"]}).then((record) => record.layers[0].A)
  : Promise.resolve(null));

// θ_t's scores on the whole sets where neither the summary (a mini-batch run's training
// scores them every k steps) nor the run's spread scores have them: served for step t,
// replayed. only for a paused frame: while playing, the loss view gives the last scores
// measured. null where not asked or not served. session: {run, summary, scores}, the
// page's run or compare's run B
export function stepScores(session, t, playing) {
  const {run, summary} = session, spread = session.scores;
  const scored = trainedAt(summary, t) || (spread && spread.steps.includes(t));
  if (playing || scored || t >= run.num_steps) return Promise.resolve(null);
  return api.scores(run.id, [t]).catch(() => null);
}

// every request of step t, at once
function requests(run, t, layer, {example, playing, scale}) {
  const batch = batchOf(run, t);
  return [parameters(run, t), heatmaps(run, t, layer, scale), batch,
    exampleColumn(run, t, example, batch), model(run, t, playing), output(run, t)];
}

// the view of the last frame drawn (example, play state, colour scale): what a prefetch
// of the next steps asks for
let last = {example: 0, playing: false, scale: "shared"};

export function prefetchFrame(run, t, layer, example = last.example) {
  if (t >= 0 && t < run.num_steps) Promise.all(requests(run, t, layer, {...last, example})).catch(() => {});
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
async function paramsAfter(run, t, phase) {
  if (phase.kind !== "update" || t + 1 >= run.num_steps) return null;
  const record = await parameters(run, t + 1);
  return record.layers.map(layerTensors);
}

// the batch as the views read it: X, Y, indices; AL (the output) where it may not be
// finite; classes, the predicted class of each example, for data without a boundary
function frameBatch(batch, AL, predicted) {
  return {...batch, ...(AL ? {AL} : {}), ...(predicted ? {classes: predicted.classes} : {})};
}

export async function loadFrame(session, view) {
  const {run} = session;
  const t = Math.min(view.iteration, run.num_steps - 1);
  const layer = Math.min(Math.max(view.layer, 1), run.L), phase = parsePhase(view.phase, run.L);
  last = {example: view.example, playing: Boolean(view.playing), scale: view.scale};
  const [[paramRecord, selected, batch, column, modelAnswer, AL], after, scores] = await Promise.all(
    [Promise.all(requests(run, t, layer, last)), paramsAfter(run, t, phase),
      stepScores(session, t, last.playing)]);
  const params = paramRecord.layers.map(layerTensors);
  const boundary = hasBoundary(run) ? modelAnswer : null;
  return {
    run, summary: session.summary, histograms: session.histograms, options: session.options,
    spreadScores: session.scores || null, stepScores: scores, playing: last.playing, t, cost: paramRecord.cost, epoch: paramRecord.epoch, layer,
    phase, params, paramsAfter: after, selected,
    // a diverged step: the views say that θ or the output holds non-finite values
    finite: !params.some((p) => hasNonFinite(p.W) || hasNonFinite(p.b)) && !(AL && hasNonFinite(AL)),
    batch: frameBatch(batch, AL, boundary ? null : modelAnswer), example: servedPath(column), boundary,
    scale: view.scale, big: view.big,
  };
}
