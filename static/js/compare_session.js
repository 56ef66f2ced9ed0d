// which run a comparison shows beside the page's own: what the learner pasted (a run id,
// or the link of a page that shows another run) as a run id, or the run shown before.
// an id encodes its config, so an id is enough (the run trains on demand, run_session.js)
import {api} from "./api.js";
import {readUrl} from "./state.js";

// a bare id has none of a link's characters ("r2…", base64url)
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
  const query = at >= 0 ? source.slice(at).split("#")[0] : source.includes("/") ? "" : source;
  const state = readUrl(query, options);
  if (state.runId) return state.runId;
  const info = await api.createRun(state.config);
  return info.id;
}

// the run the page showed before the one it shows now, for "compare with the previous
// run": saw(id) is told the id of every frame drawn
export function createRunHistory() {
  let current = null, previous = null;
  return {
    saw(id) {
      if (id === current) return;
      previous = current;
      current = id;
    },
    previous: () => previous,
  };
}
