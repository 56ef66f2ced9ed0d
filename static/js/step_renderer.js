// draws every view for a view state. the newest request wins: while one frame is drawing,
// later requests collapse into one, so requests never pile up. performance marks around
// each redraw ("step-start" .. "step-rendered", measure "step-redraw") feed bench/.
// while playing, views that only move a "you are here" marker (view.marker) redraw at
// most every MARKER_MS; paused, every view redraws on every change.
import {loadFrame} from "./step_frame.js";

const MAX_ENTRIES = 2000;  // keep the performance buffer bounded on long sessions
const MARKER_MS = 250;

export function createRenderer(views, onError) {
  let session = null, wanted = null, running = null, drawn = false;

  // one view that fails must not keep the others from drawing this step: each draws on
  // its own, and the first failure is reported once all have had their turn
  async function drawView(v, frame, now) {
    v.drawnAt = now;
    if (v.drawn) return v.module.update(frame);
    await v.module.render(v.element, frame, v.extra);
    v.drawn = true;
    return null;
  }

  async function drawFrame({view, started}) {
    // motion: the network diagram's move to this phase while the phases play (phase_player.js)
    const frame = {...await loadFrame(session, view), playing: view.playing, motion: view.motion};
    const now = performance.now();
    const due = (v) => !drawn || !view.playing || !v.marker || now - (v.drawnAt || 0) >= MARKER_MS;
    const results = await Promise.allSettled(views.filter(due).map(async (v) => drawView(v, frame, now)));
    drawn = true;
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    performance.mark("step-rendered");
    performance.measure("step-redraw", {start: started, end: performance.now()});
    if (performance.getEntriesByType("measure").length > MAX_ENTRIES) performance.clearMeasures();
    return frame;
  }

  async function pump() {
    while (wanted) {
      const job = wanted;
      wanted = null;
      try {
        await drawFrame(job);
      } catch (err) {
        onError(err);
      }
    }
    running = null;
  }

  return {
    setSession(s) { session = s; },
    // resolves once this view state (or a newer one) is on screen
    draw(view) {
      if (!session) return Promise.resolve();
      performance.mark("step-start");
      wanted = {view, started: performance.now()};
      if (!running) running = pump();
      return running;
    },
    idle: () => running || Promise.resolve(),
  };
}
