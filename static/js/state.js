// the one owner of UI state and of its round trip through the URL.
// state = {config: {...only the fields the user changed}, iteration, phase, layer, ...}.
// the URL is ?<config field>=<value>&...&it=12&phase=backward-2&layer=2: config fields
// keep their API names, lists are comma separated, and default values are left out (the
// defaults of the chosen dataset: ?dataset=digits implies its softmax output and loss).

// the view's part of the state: key -> how it reads from and writes to the query string
const VIEW_FIELDS = {
  iteration: {param: "it", kind: "int", fallback: 0, always: true},
  phase: {param: "phase", kind: "text", fallback: "forward-1", always: true},
  layer: {param: "layer", kind: "int", fallback: 1, always: true},
  example: {param: "ex", kind: "int", fallback: 0},
  scale: {param: "scale", kind: "text", fallback: "shared", choices: ["shared", "tensor", "run", "symlog"]},
  speed: {param: "speed", kind: "number", fallback: 15},
  // seconds per phase while the phases play (phase_player.js's PACES)
  pace: {param: "pace", kind: "text", fallback: "normal", choices: ["slow", "normal", "fast"]},
  big: {param: "big", kind: "bool", fallback: false},
  // "presenter": controls, network, inspector
  layout: {param: "layout", kind: "text", fallback: "page", choices: ["page", "presenter"]},
  // predict, then reveal: each phase asks a question before it shows its result
  quiz: {param: "quiz", kind: "bool", fallback: false},
  runId: {param: "run", kind: "text", fallback: null},
  // a second run beside the first, by its id (views/compare_view.js), the tensor it shows of
  // both ("auto": the phase's; a name the select lacks is "auto") and their colours
  compare: {param: "compare", kind: "text", fallback: null},
  compareTensor: {param: "ctensor", kind: "text", fallback: "auto"},
  compareColours: {param: "ccolours", kind: "text", fallback: "shared", choices: ["shared", "own"]},
  // the open lesson (lessons.js) and the step of its tour (0: the lesson's own view)
  lesson: {param: "lesson", kind: "text", fallback: null},
  tour: {param: "tour", kind: "int", fallback: 0},
};
const LIST_FIELDS = new Set(["hidden_layers", "activations"]);
const NUMBER_LIST_FIELDS = new Set(["hidden_layers"]);

const KINDS = {
  int: {parse: (s) => (/^\d+$/.test(s) ? Number(s) : undefined), format: String},
  number: {parse: (s) => (Number.isFinite(Number(s)) ? Number(s) : undefined), format: String},
  text: {parse: (s) => s, format: String},
  bool: {parse: (s) => s === "1", format: (v) => (v ? "1" : "0")},
};

// a config value from the URL; one the server cannot read goes to it unchanged, so that
// its 422 names the field ("learning_rate=abc" -> "learning_rate: must be a number")
export function parseConfigValue(field, text) {
  if (LIST_FIELDS.has(field)) {
    const items = text === "" ? [] : text.split(",");
    return NUMBER_LIST_FIELDS.has(field)
      ? items.map((s) => (s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : s))
      : items;
  }
  if (text === "null" || text === "full") return null;
  if (text.trim() !== "" && Number.isFinite(Number(text))) return Number(text);
  return text;
}

function formatConfigValue(value) {
  if (Array.isArray(value)) return value.join(",");
  return value === null ? "null" : String(value);
}

function sameValue(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

// fields whose null asks the server for the dataset's own value
const NULL_MEANS_NATURAL = new Set(["noise", "activations", "loss"]);

const datasetOf = (config, options) =>
  options.datasets.find((d) => d.name === (config.dataset ?? options.default_config.dataset));

// each field's default once the dataset and layers are chosen, as the engine normalizes
// it: /api/options serves each dataset's default_config and the activation a hidden layer
// gets when none is named (the page derives no default of its own). dataset and
// hidden_layers keep the server's defaults: a choice of them differs from those
export function defaultsFor(config, options) {
  const data = datasetOf(config, options), top = options.default_config;
  if (!data) return top;
  const base = {...data.default_config, dataset: top.dataset, hidden_layers: top.hidden_layers};
  const hidden = Array.isArray(config.hidden_layers) ? config.hidden_layers : top.hidden_layers;
  return {...base, activations: [...hidden.map(() => data.default_hidden_activation), base.activations.at(-1)]};
}

// the part of `config` that differs from its defaults: what the URL and a POST carry.
// posting it gives the same normalized config as posting the whole config
export function configOverrides(config, options) {
  const defaults = defaultsFor(config, options), data = datasetOf(config, options);
  const out = {};
  for (const [field, value] of Object.entries(config)) {
    if (value === null && NULL_MEANS_NATURAL.has(field)) continue;
    if (field === "n_samples" && data && data.fixed_size) continue;  // real data ignores it
    if (!(field in defaults) || !sameValue(value, defaults[field])) out[field] = value;
  }
  return out;
}

// the view's fields (iteration, phase, layer) that a URL's query gives
export const viewParamsIn = (search) => {
  const query = new URLSearchParams(search);
  return ["iteration", "phase", "layer"].filter((key) => query.has(VIEW_FIELDS[key].param));
};

export function readUrl(search, options) {
  const query = new URLSearchParams(search);
  const viewParams = new Set(Object.values(VIEW_FIELDS).map((f) => f.param));
  const state = {config: {}};
  for (const [key, field] of Object.entries(VIEW_FIELDS)) {
    const text = query.get(field.param);
    const value = text === null ? undefined : KINDS[field.kind].parse(text);
    // a choice the page does not know (an old link's scale=per_run) falls back to the default
    const known = value !== undefined && (!field.choices || field.choices.includes(value));
    state[key] = known ? value : field.fallback;
  }
  for (const [param, text] of query) {
    if (!viewParams.has(param)) state.config[param] = parseConfigValue(param, text);
  }
  state.config = configOverrides(state.config, options);
  return state;
}

export function toSearch(state, options) {
  const query = new URLSearchParams();
  for (const [field, value] of Object.entries(configOverrides(state.config, options))) {
    query.set(field, formatConfigValue(value));
  }
  for (const [key, field] of Object.entries(VIEW_FIELDS)) {
    const value = state[key];
    if (value === null || value === undefined) continue;
    if (field.always || value !== field.fallback) query.set(field.param, KINDS[field.kind].format(value));
  }
  // commas read better than %2C in a shared link
  return "?" + query.toString().replace(/%2C/g, ",");
}

// browsers limit history updates (Safari throws after 100 in 30 s): the URL follows each
// change at once while URL_BURST writes are in hand (clicks and keys), then at most every
// URL_MS (playing, a held key), and always catches up with the last state
const URL_BURST = 10, URL_MS = 400;

// a history call the browser refuses (over its limit) leaves the URL behind, not the page
function callHistory(method, search) {
  try {
    window.history[method](null, "", window.location.pathname + search);
  } catch { /* the next write catches up */ }
}

// a tiny store: set() merges a patch, mirrors it into the URL (the history entry on
// screen) and tells the listeners. urlShows(patch): the URL shows the state with patch
// over it (the run on screen while another loads: {config, runId}), until urlShows(null);
// pushEntry() makes the URL an entry of its own
export function createStore(initial, options) {
  let state = initial, pending = null, over = null;
  let writes = URL_BURST, counted = performance.now();
  const listeners = new Set();
  // whether a write may go now: URL_BURST at most, one more every URL_MS
  const mayWrite = () => {
    const now = performance.now();
    writes = Math.min(URL_BURST, writes + (now - counted) / URL_MS);
    counted = now;
    return writes >= 1;
  };
  const search = () => toSearch(over ? {...state, ...over} : state, options);
  const writeUrl = () => {
    clearTimeout(pending);
    pending = null;
    writes -= 1;
    const wanted = search();
    if (wanted !== window.location.search) callHistory("replaceState", wanted);
  };
  return {
    get: () => state,
    urlShows(patch) {
      over = patch;
      writeUrl();
    },
    // a new history entry for the URL; the entry on screen gets back the URL of
    // `previous`, the last state it showed, which Back then shows again
    pushEntry(previous) {
      const next = search();
      clearTimeout(pending);
      pending = null;
      callHistory("replaceState", toSearch(previous, options));
      callHistory("pushState", next);
    },
    set(patch) {
      const before = state;
      state = {...state, ...patch};
      // the listeners first: one may say what the URL shows (the run on screen while the
      // new config's loads) before it is written
      for (const listener of listeners) listener(state, before);
      if (mayWrite()) writeUrl();
      else if (!pending) pending = setTimeout(writeUrl, (1 - writes) * URL_MS);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
