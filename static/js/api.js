// the one module that talks to the server (CONTRACT §4). step answers are cached in a
// small LRU keyed by URL, so replaying a step, prefetching and re-rendering cost one request.
// tensors sent as bytes (encoding=u8) are decoded here, once, into the rows of numbers
// every view reads (tensors.js decodeTensors).
import {decodeTensors} from "./tensors.js";

// a frame asks for about six answers; the player keeps LOOKAHEAD steps ahead and paused
// pages fetch both neighbours: this many keeps them all
const STEP_CACHE_SIZE = 96;
const stepCache = new Map();  // url -> Promise<json>; Map keeps insertion order for the LRU

// retryAfter: the seconds a 429 or 503 said to wait (Retry-After), else null; a proxy's 502
// or 504 with one too (deploy/nginx.conf: no replica answered, one restarts)
export class ApiError extends Error {
  constructor(status, detail, retryAfter = null) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
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

// calls attempt() until it says done, with backoff (or the pause it asks for), for up to
// RETRY_MS; then gives its last value, or throws its last error
async function withBackoff(attempt) {
  const deadline = Date.now() + RETRY_MS;
  for (let backoff = 100; ; backoff = Math.min(2 * backoff, 1000)) {
    const {done, value, error, pause = backoff} = await attempt();
    if (done || Date.now() + pause >= deadline) {
      if (error) throw error;
      return value;
    }
    await sleep(pause);
  }
}

// a read answered 409 is tried again. a 429 (this browser's runs already fill its share of
// the server's training) or 503 (busy) is tried again after its Retry-After, telling
// onBusy(seconds) first: asking for a run again is safe, its config names it. anything
// else is final
function request(path, options = {}, onBusy = null) {
  return withBackoff(async () => {
    try {
      return {done: true, value: await requestOnce(path, options)};
    } catch (error) {
      if (error.status === 409 && !options.method) return {done: false, error};
      if (error.retryAfter !== null) {
        if (onBusy) onBusy(error.retryAfter);
        return {done: false, error, pause: 1000 * error.retryAfter};
      }
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
    const retryAfter = [429, 502, 503, 504].includes(response.status) ? response.headers.get("Retry-After") : null;
    throw new ApiError(response.status, text, retryAfter === null ? null : Math.max(1, Number(retryAfter) || 1));
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
  const promise = request(url).then(decodeTensors);
  promise.catch(() => stepCache.delete(url));  // failures are not cached
  stepCache.set(url, promise);
  while (stepCache.size > STEP_CACHE_SIZE) stepCache.delete(stepCache.keys().next().value);
  return promise;
}

// display precision (docs/api.md, "Lean answers"): digits rounds the numbers to that many
// significant digits; encoding "u8" sends a byte per cell. without them, full precision
function setForm(query, {digits, encoding} = {}) {
  if (digits) query.set("digits", String(digits));
  if (encoding) query.set("encoding", encoding);
}

const runPath = (runId, t) => `/api/runs/${encodeURIComponent(runId)}/steps/${t}`;

// example: one training example's column (its index in the training set, as in
// batch.indices); the server answers 422 for one that is not in step t's batch
export function stepUrl(runId, t, {layers, fields, maxCells, example, digits, encoding} = {}) {
  const query = new URLSearchParams();
  if (layers) query.set("layers", layers.join(","));
  if (fields) query.set("fields", fields.join(","));
  if (maxCells) query.set("max_cells", String(maxCells));
  if (example !== undefined) query.set("example", String(example));
  setForm(query, {digits, encoding});
  const qs = query.toString();
  return `${runPath(runId, t)}${qs ? "?" + qs : ""}`;
}

export function boundaryUrl(runId, t, resolution, form) {
  const query = new URLSearchParams({resolution: String(resolution)});
  setForm(query, form);
  return `${runPath(runId, t)}/boundary?${query}`;
}

export const api = {
  options: () => request("/api/options"),
  // the lessons of CONTRACT §7, each with its config, view, words and tour
  lessons: () => request("/api/lessons"),
  // onBusy(seconds): the server refused for now (429, 503) and is asked again that much
  // later. the config is checked first: a setting the server refuses comes back as a
  // verdict, thrown as its 422 would be, not as a failed request that the console logs
  createRun: async (config, onBusy) => {
    const post = (path) => request(path, {method: "POST", body: JSON.stringify(config),
      headers: {"Content-Type": "application/json", "Accept": "application/json"}}, onBusy);
    const verdict = await post("/api/configs/check");
    if (!verdict.valid) throw new ApiError(422, verdict.detail);
    return post("/api/runs");
  },
  run: (id, onBusy) => request(`/api/runs/${encodeURIComponent(id)}`, {}, onBusy),
  // a run named by an id from outside the page (a link, a pasted id): the id is checked
  // first, so that one naming no run comes back as a verdict, thrown as the run route's
  // 404 would be, not as a failed request that the console logs. an r1 id opens as the
  // run's current id
  openRun: async (id, onBusy) => {
    const verdict = await request(`/api/run-ids/${encodeURIComponent(id)}`);
    if (!verdict.valid) throw new ApiError(404, verdict.detail);
    return request(`/api/runs/${encodeURIComponent(verdict.id)}`, {}, onBusy);
  },
  summary: (id, numSteps = 0) => completeSummary(id, numSteps),
  histograms: (id) => request(`/api/runs/${encodeURIComponent(id)}/histograms`),
  // θ_t's scores on the whole training and test sets at these steps (an array), or at
  // evenly spread steps without them: the summary's where training scored them, else
  // replayed on the server
  scores: (id, steps) => (steps ? cached(`/api/runs/${encodeURIComponent(id)}/scores?steps=${steps.join(",")}`)
    : request(`/api/runs/${encodeURIComponent(id)}/scores`)),
  step: (id, t, narrow) => cached(stepUrl(id, t, narrow)),
  // the model θ_t evaluated by the engine over a resolution × resolution grid (CONTRACT §4)
  // form: {digits, encoding}, as for a step
  boundary: (id, t, resolution, form) => cached(boundaryUrl(id, t, resolution, form)),
  // the class the network predicts for each example of step t's batch (classification)
  predictions: (id, t) => cached(`${runPath(id, t)}/predictions`),
  // what each hidden unit of `layer` learned: its A over the input plane, a byte a point
  // (units: an array of unit numbers, at most 8; see docs/api.md)
  units: (id, t, {layer, units, resolution}) =>
    cached(`/api/runs/${encodeURIComponent(id)}/steps/${t}/units?layer=${layer}&units=${units.join(",")}&resolution=${resolution}`),
  // training example i as the picture it was (image data: digits), whole grey levels
  // {index, image_shape, pixels: rows, levels: [no ink, full ink]}; needs no trained step
  exampleImage: (id, i) => cached(`/api/runs/${encodeURIComponent(id)}/examples/${i}`),
  gradcheck: (id, t, signal) =>
    request(`/api/runs/${encodeURIComponent(id)}/steps/${t}/gradcheck`, {signal}),
};
