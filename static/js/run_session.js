// a run as the page uses it: created (or found again) from a config, trained on the
// server, with its summary. long runs answer 202; then we poll and report progress, or
// the place in the server's queue while the run waits its turn.
import {api} from "./api.js";

const POLL_MS = 250;
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

// onProgress(fraction, queuePosition, retryIn): queuePosition counts the runs that train
// before this one while it waits for a training thread (null once it trains); retryIn, the
// seconds until the page asks again after the server refused for now (429). polling also
// tells the server someone still wants the run: runs nobody asks about are cancelled.
async function waitUntilTrained(info, onProgress) {
  const onBusy = (seconds) => onProgress(info.progress || 0, null, seconds);
  while (info.status === "running" || info.status === "pending") {
    onProgress(info.progress || 0, info.queue_position ?? null);
    await sleep(POLL_MS);
    info = await api.run(info.id, onBusy);
  }
  onProgress(1, null);
  return info;
}

// a run named by its id, trained on demand, with its summary and no histograms: the
// second run of a comparison (views/compare_view.js), whose distributions are not drawn
export async function openRunById(options, runId, onProgress) {
  const onBusy = (seconds) => onProgress(0, null, seconds);
  const info = await waitUntilTrained(await api.run(runId, onBusy), onProgress);
  const run = describe(options, info);
  return {options, run, summary: await api.summary(run.id, run.num_steps), histograms: null};
}

// {run, summary, histograms}; throws ApiError (422 names the field) on a bad config.
// histograms replay a few dozen steps on the server, so they arrive later: until then
// the distributions view draws the summary's statistics, then onHistograms() redraws.
export async function openSession(options, source, onProgress, onHistograms) {
  const onBusy = (seconds) => onProgress(0, null, seconds);
  let info = source.runId && !Object.keys(source.config).length
    ? await api.run(source.runId, onBusy)
    : await api.createRun(source.config, onBusy);
  info = await waitUntilTrained(info, onProgress);
  const run = describe(options, info);
  const session = {options, run, summary: await api.summary(run.id, run.num_steps),
    histograms: null};
  api.histograms(run.id).then((h) => {
    session.histograms = h;
    onHistograms(session);
  }).catch(() => {});  // an older server without the route: the statistics stay
  return session;
}
