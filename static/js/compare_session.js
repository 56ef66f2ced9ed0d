// which run a comparison shows beside the page's own: what the learner pasted (a run id,
// or the link of a page that shows another run) as a run id, or the run shown before.
// an id encodes its config, so an id is enough (the run trains on demand, run_session.js)
import {api} from "./api.js";
import {readUrl} from "./state.js";

// a bare id has none of a link's characters ("r2…" or "r3…", base64url)
const BARE_ID = /^[A-Za-z0-9_-]+$/;

// the run id named by `text`: the id itself; a page link with ?run=<id>; or a page link
// that holds a config (the page's usual URL), whose run is asked for (POST) to learn its id
export async function runIdOf(text, options) {
  const source = text.trim();
  if (!source) throw new Error("Paste a run id, or the link of a page that shows another run.");
  if (BARE_ID.test(source)) return source;
  // "http://host/?dataset=xor&it=3", "?dataset=xor", "dataset=xor"; a link without a query
  // ("http://host/") shows the default run
  const at = source.indexOf("?");
  if (at < 0 && !/[/=]/.test(source)) {
    throw new Error(`“${source.length > 40 ? `${source.slice(0, 40)}…` : source}” is neither a run id (r2… or r3…) nor the link of a page that shows a run.`);
  }
  const query = at >= 0 ? source.slice(at).split("#")[0] : source.includes("/") ? "" : source;
  const state = readUrl(query, options);
  if (state.runId) return state.runId;
  const info = await api.createRun(state.config);
  return info.id;
}

// the run the page showed before the one it shows now, for "compare with the previous
// run": saw(id) is told the id of every frame drawn. kept in the tab's sessionStorage, so
// that a reload (or a lesson's link) still offers the run before it; without storage
// (a browser that refuses it), for as long as the page is open
const KEY = "backprop-lens.runs";

function stored(storage) {
  try {
    const {current = null, previous = null} = JSON.parse(storage.getItem(KEY)) || {};
    return {current, previous};
  } catch {
    return {current: null, previous: null};
  }
}

// the tab's sessionStorage, or null where reading it throws (a sandboxed frame)
function tabStorage() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export function createRunHistory(storage = tabStorage()) {
  const runs = stored(storage);
  return {
    saw(id) {
      if (id === runs.current) return;
      runs.previous = runs.current;
      runs.current = id;
      try {
        storage.setItem(KEY, JSON.stringify(runs));
      } catch { /* full or refused: this page still remembers */ }
    },
    previous: () => runs.previous,
  };
}
