// a run as the page uses it: created (or found again) from a config, trained on the
// server, with its summary. long runs answer 202; then we poll and report progress, or
// the place in the server's queue while the run waits its turn.
import {api, ApiError} from "./api.js";

const POLL_MS = 250, LOST_POLL_MS = 1000, LOST_MS = 120000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function datasetInfo(options, name) {
  return options.datasets.find((d) => d.name === name);
}

// run info plus what the views keep asking: layer sizes, L, the dataset's task
function describe(options, info) {
  const data = datasetInfo(options, info.config.dataset);
  const dims = [data.n_x, ...info.config.hidden_layers, data.n_y];
  return {...info, dims, L: dims.length - 1, task: data.task, classes: data.classes,
    dataset: data};
}

// a load the page no longer wants (another run asked for since)
class Unwanted extends Error {}

// no answer, or a proxy's for a server that gives none (nginx: 502, 504, or a 503 without
// Retry-After; the app's own 503 says when to ask again, and api.js waits that long)
const serverGone = (err) => err instanceof ApiError &&
  (err.status === 0 || err.status === 502 || err.status === 504 || (err.status === 503 && err.retryAfter === null));

// onProgress(fraction, queuePosition, retryIn, lost): queuePosition counts the runs that
// train before this one while it waits for a training thread (null once it trains);
// retryIn, the seconds until the page asks again after the server refused for now (429);
// lost, the server stopped answering (serverGone: restarted, say; the run's id stays valid,
// and it trains the run again), and is asked every LOST_POLL_MS for up to LOST_MS (the page
// had stayed blank until a reload). polling also tells the server someone still wants the
// run: runs nobody asks about are cancelled, so once wanted() is false the polling stops
// (throws Unwanted)
async function waitUntilTrained(info, onProgress, wanted = () => true) {
  const onBusy = (seconds) => onProgress(info.progress || 0, null, seconds);
  let lostSince = null;
  while (info.status === "running" || info.status === "pending") {
    onProgress(info.progress || 0, info.queue_position ?? null, null, lostSince !== null);
    await sleep(lostSince === null ? POLL_MS : LOST_POLL_MS);
    if (!wanted()) throw new Unwanted("another run was asked for");
    try {
      info = await api.run(info.id, onBusy);
      lostSince = null;
    } catch (err) {
      if (!serverGone(err)) throw err;
      lostSince ??= Date.now();
      if (Date.now() - lostSince > LOST_MS) throw err;
    }
  }
  onProgress(1, null);
  return info;
}

// θ's scores on the whole sets at evenly spread steps (api.scores), where training scored
// them every k-th step only (a mini-batch run); else null. null on an older server too
function spreadScores(run, summary) {
  return summary.evaluated_every > 1 ? api.scores(run.id).catch(() => null) : Promise.resolve(null);
}

// whether training scored θ_t on the whole sets, as the engine's Series.measured says: at
// every evaluated_every-th step and the last one recorded. a null there is a score that is
// not finite; elsewhere, one not taken
export function trainedAt(summary, t) {
  return t % (summary.evaluated_every || 1) === 0 || t === summary.cost.length - 1;
}

// the steps at which θ was scored on a whole set (key: train_accuracy, ...), ascending, and
// the scores: training's (the summary's non-null entries) and those of `scores` (served
// by api.scores for other steps; a null there is a score that is not finite)
export function scoredPoints(summary, scores, key) {
  const points = new Map();
  (summary[key] || []).forEach((v, t) => { if (v !== null) points.set(t, v); });
  if (scores && scores[key]) scores.steps.forEach((t, k) => { if (!points.has(t)) points.set(t, scores[key][k]); });
  const x = [...points.keys()].sort((a, b) => a - b);
  return {x, y: x.map((t) => points.get(t))};
}

// the summary with the whole-set scores of `scores` (spreadScores) filled in at their
// steps, for the views that draw the summary's series as they are (compare_curves.js)
const merged = new WeakMap();  // summary -> scores -> the summary with them
export function withScores(summary, scores) {
  if (!scores) return summary;
  if (!merged.has(summary)) merged.set(summary, new WeakMap());
  const copies = merged.get(summary);
  if (!copies.has(scores)) {
    const copy = {...summary};
    for (const key of ["train_accuracy", "test_accuracy", "train_r2", "test_r2"]) {
      if (!Array.isArray(summary[key]) || !Array.isArray(scores[key])) continue;
      const {x, y} = scoredPoints(summary, scores, key);
      copy[key] = summary[key].map(() => null);
      x.forEach((t, k) => { copy[key][t] = y[k]; });
    }
    copies.set(scores, copy);
  }
  return copies.get(scores);
}

// a run named by its id, trained on demand, with its summary and scores and no
// histograms: the second run of a comparison (views/compare_view.js), whose
// distributions are not drawn
export async function openRunById(options, runId, onProgress) {
  const onBusy = (seconds) => onProgress(0, null, seconds);
  const info = await waitUntilTrained(await api.openRun(runId, onBusy), onProgress);
  const run = describe(options, info);
  const summary = await api.summary(run.id, run.num_steps);
  return {options, run, summary, histograms: null, scores: await spreadScores(run, summary)};
}

// {run, summary, histograms, scores}; throws ApiError (422 names the field) on a bad
// config. histograms and scores (θ on the whole sets at evenly spread steps) replay a few
// dozen steps on the server, so they arrive later: until then the distributions view
// draws the summary's statistics and the loss view training's scores, then onHistograms()
// redraws. onCreated(info): the run's info as soon as the server has it, its normalized
// config too, before it has trained. wanted(): whether the page still wants this run
// (waitUntilTrained)
export async function openSession(options, source, {onProgress, onHistograms, onCreated, wanted}) {
  const onBusy = (seconds) => onProgress(0, null, seconds);
  let info = source.runId && !Object.keys(source.config).length
    ? await api.openRun(source.runId, onBusy)
    : await api.createRun(source.config, onBusy);
  if (wanted()) onCreated(info);
  info = await waitUntilTrained(info, onProgress, wanted);
  const run = describe(options, info);
  const session = {options, run, summary: await api.summary(run.id, run.num_steps),
    histograms: null, scores: null};
  api.histograms(run.id).then((h) => {
    session.histograms = h;
    onHistograms(session);
  }).catch(() => {});  // an older server without the route: the statistics stay
  spreadScores(run, session.summary).then((scores) => {
    if (!scores) return;  // a full batch's summary scores every step: nothing to add
    session.scores = scores;
    onHistograms(session);
  });
  return session;
}
