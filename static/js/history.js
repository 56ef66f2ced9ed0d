// the browser's history: an entry per run and lesson the page shows, so that Back goes to
// the one before, at the view it was left at. Steps, phases and layers change the entry's
// URL only (state.js writes it). The display settings (layout, large text, colours, speed,
// pace, quiz) are the reader's, not an entry's: Back keeps them (a projector stays in the
// presenter layout).
import {readUrl} from "./state.js";

// what an entry shows: a run (its config, or its id), the view of it, its lesson, the
// run beside it
const ENTRY_FIELDS = ["config", "runId", "iteration", "phase", "layer", "example", "lesson", "tour", "compare"];
const entryKey = (s) => JSON.stringify([s.config, s.lesson]);

// onBack(patch): set the store to the entry the browser went to (Back or Forward)
export function createHistory(store, options, onBack) {
  let entry = null;  // the entry on screen: {key, state: the last state it showed}
  window.addEventListener("popstate", () => {
    const read = readUrl(window.location.search, options);
    const patch = Object.fromEntries(ENTRY_FIELDS.map((field) => [field, read[field]]));
    entry = {key: entryKey(patch), state: {...store.get(), ...patch}};
    onBack(patch);
  });
  return {
    // the state s shows its run (trained, on screen): a new run or lesson gets an entry of
    // its own, and the entry before keeps the last state it showed
    shown(s) {
      const key = entryKey(s);
      if (entry && entry.key !== key) store.pushEntry(entry.state);
      entry = {key, state: s};
    },
    // the state s of the run on screen while another loads: the entry keeps its view if it
    // is that run's (not the one Back went to, whose run is loading)
    stepped(s) {
      if (entry && entry.key === entryKey(s)) entry = {key: entry.key, state: s};
    },
  };
}
