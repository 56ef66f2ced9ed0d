// the one module that talks to the server (CONTRACT §4). step answers are cached in a
// small LRU keyed by URL, so replaying a step, prefetching and re-rendering cost one request.

const STEP_CACHE_SIZE = 64;
const stepCache = new Map();  // url -> Promise<json>; Map keeps insertion order for the LRU

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

// a 422 detail is a string naming the field ("learning_rate: must be <= 10"),
// or FastAPI's list of {loc, msg}; both become one readable line
export function detailText(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => {
      const loc = (d.loc || []).filter((p) => p !== "body" && p !== "query");
      return loc.length ? `${loc.join(".")}: ${d.msg}` : d.msg;
    }).join("; ");
  }
  return detail ? JSON.stringify(detail) : "";
}

// several server processes or replicas share no state: one that has not trained a run
// yet retrains it from its id, and answers 409 for its steps until they exist, or a
// summary of the steps so far. reads therefore wait and retry, for up to RETRY_MS.
const RETRY_MS = 120000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// calls attempt() until it says done, with backoff, for up to RETRY_MS; then gives
// its last value, or throws its last error
async function withBackoff(attempt) {
  const deadline = Date.now() + RETRY_MS;
  for (let pause = 100; ; pause = Math.min(2 * pause, 1000)) {
    const {done, value, error} = await attempt();
    if (done || Date.now() + pause >= deadline) {
      if (error) throw error;
      return value;
    }
    await sleep(pause);
  }
}

// a read answered 409 is tried again; anything else is final
function request(path, options = {}) {
  return withBackoff(async () => {
    try {
      return {done: true, value: await requestOnce(path, options)};
    } catch (error) {
      if (error.status === 409 && !options.method) return {done: false, error};
      throw error;
    }
  });
}

// the summary of all numSteps steps (see RETRY_MS for why it may come in parts)
function completeSummary(id, numSteps) {
  return withBackoff(async () => {
    const summary = await request(`/api/runs/${encodeURIComponent(id)}/summary`);
    return {done: summary.steps >= numSteps, value: summary};
  });
}

async function requestOnce(path, options) {
  let response;
  try {
    response = await fetch(path, {headers: {"Accept": "application/json"}, ...options});
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "The server did not answer. Is `backprop-lens serve` still running?");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const text = detailText(body && body.detail) || `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, text);
  }
  return body;
}

function cached(url) {
  if (stepCache.has(url)) {
    const hit = stepCache.get(url);
    stepCache.delete(url);  // re-insert: most recently used goes last
    stepCache.set(url, hit);
    return hit;
  }
  const promise = request(url);
  promise.catch(() => stepCache.delete(url));  // failures are not cached
  stepCache.set(url, promise);
  while (stepCache.size > STEP_CACHE_SIZE) stepCache.delete(stepCache.keys().next().value);
  return promise;
}

// example: one training example's column (its index in the training set, as in
// batch.indices); the server answers 422 for one that is not in step t's batch
export function stepUrl(runId, t, {layers, fields, maxCells, example} = {}) {
  const query = new URLSearchParams();
  if (layers) query.set("layers", layers.join(","));
  if (fields) query.set("fields", fields.join(","));
  if (maxCells) query.set("max_cells", String(maxCells));
  if (example !== undefined) query.set("example", String(example));
  const qs = query.toString();
  return `/api/runs/${encodeURIComponent(runId)}/steps/${t}${qs ? "?" + qs : ""}`;
}

export const api = {
  options: () => request("/api/options"),
  createRun: (config) => request("/api/runs", {
    method: "POST",
    headers: {"Content-Type": "application/json", "Accept": "application/json"},
    body: JSON.stringify(config),
  }),
  run: (id) => request(`/api/runs/${encodeURIComponent(id)}`),
  summary: (id, numSteps = 0) => completeSummary(id, numSteps),
  histograms: (id) => request(`/api/runs/${encodeURIComponent(id)}/histograms`),
  step: (id, t, narrow) => cached(stepUrl(id, t, narrow)),
  // the model θ_t evaluated by the engine over a resolution × resolution grid (CONTRACT §4)
  boundary: (id, t, resolution) =>
    cached(`/api/runs/${encodeURIComponent(id)}/steps/${t}/boundary?resolution=${resolution}`),
  gradcheck: (id, t, signal) =>
    request(`/api/runs/${encodeURIComponent(id)}/steps/${t}/gradcheck`, {signal}),
};
