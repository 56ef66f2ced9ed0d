// a run as the page uses it: created (or found again) from a config, trained on the
// server, with its summary. long runs answer 202; then we poll and report progress.
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

async function waitUntilTrained(info, onProgress) {
  while (info.status === "running" || info.status === "pending") {
    onProgress(info.progress || 0);
    await sleep(POLL_MS);
    info = await api.run(info.id);
  }
  onProgress(1);
  return info;
}

// {run, summary, histograms}; throws ApiError (422 names the field) on a bad config
export async function openSession(options, source, onProgress) {
  let info = source.runId && !Object.keys(source.config).length
    ? await api.run(source.runId)
    : await api.createRun(source.config);
  info = await waitUntilTrained(info, onProgress);
  const run = describe(options, info);
  const summary = await api.summary(run.id);
  return {options, run, summary, histograms: summary.histograms || null};
}

// the config the server completed, as the form should show it
export function normalizedConfig(session) {
  return session.run.config;
}
