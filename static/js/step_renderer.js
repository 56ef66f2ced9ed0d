// draws every view for a view state. the newest request wins: while one frame is drawing,
// later requests collapse into one, so requests never pile up. performance marks around
// each redraw ("step-start" .. "step-rendered", measure "step-redraw") feed bench/.
// a view that exports inputs(frame) redraws only when they, the run, the fonts or the
// colour scale changed since it last drew: within an iteration a phase change redraws the
// diagram and the inspector, not the loss or the boundary. views marked `later` (main.js)
// draw after the others; while the phases play, they give way between them once the frame
// has held the page's thread for a slice (task_slices.js), so that no one task is long and
// the animation goes on; a newer state takes over the ones not drawn yet. while the iterations
// or the phases play, a later view off screen waits until it comes on screen or play stops;
// and views that only move a "you are here" marker (view.marker) redraw at most every
// MARKER_MS.
import {loadFrame} from "./step_frame.js";
import {SLICE_MS, startSlice, giveWay} from "./task_slices.js";

const MAX_ENTRIES = 2000;  // keep the performance buffer bounded on long sessions
const MARKER_MS = 250;
const NEAR_SCREEN = "100px";  // a view this close to the window counts as on screen

// what every view draws with besides its own inputs: the run, the fonts (large text, the
// presenter layout) and the colour scale; null: a view without inputs() always redraws
function inputsOf(v, view, frame) {
  if (!v.module.inputs) return null;
  return [frame.run, view.big, view.layout, view.scale, ...v.module.inputs(frame)];
}

// served answers keep their identity (api.js caches them): an unchanged one is the same object
const same = (a, b) => Boolean(a && b) && a.length === b.length && a.every((x, k) => x === b[k]);

export function createRenderer(views, onError) {
  let session = null, wanted = null, running = null, drawn = false, asked = null, moved = false;

  // one view that fails must not keep the others from drawing this step: each draws on
  // its own, and the first failure is reported once all have had their turn. a view that
  // failed keeps no inputs, so the next frame draws it again
  async function drawView(v, frame, now, inputs) {
    v.drawnAt = now;
    v.inputs = null;
    if (v.drawn) await v.module.update(frame);
    else {
      await v.module.render(v.element, frame, v.extra);
      v.drawn = true;
    }
    v.inputs = inputs;
  }

  // which views of this frame draw, with the inputs they draw from
  function jobsOf(view, frame, now) {
    const playing = view.playing || Boolean(view.motion);
    const due = (v) => !drawn || !view.playing || !v.marker || now - (v.drawnAt || 0) >= MARKER_MS;
    return views.filter(due).map((v) => ({v, inputs: inputsOf(v, view, frame)})).filter(({v, inputs}) => {
      const stale = !same(v.inputs, inputs);
      v.waiting = stale && playing && v.later && v.onScreen === false;
      return stale && !v.waiting;
    });
  }

  async function drawFrame({view, started}) {
    // motion: the network diagram's move to this phase while the phases play (phase_player.js)
    const frame = {...await loadFrame(session, view), playing: view.playing, motion: view.motion};
    const now = performance.now(), jobs = jobsOf(view, frame, now);
    const draw = ({v, inputs}) => drawView(v, frame, now, inputs);
    // phase play's frames, and the one that catches up when it stops, give way between
    // slices: the diagram moves meanwhile. a step by hand draws in one go: the learner waits
    // for all of it, and a paint between would only delay it
    startSlice(view.motion || moved ? SLICE_MS : Infinity);
    moved = Boolean(view.motion);
    const pending = jobs.filter(({v}) => !v.later).map(draw);
    let complete = true;
    for (const job of jobs.filter(({v}) => v.later)) {
      if (await giveWay() && wanted) {
        complete = false;
        break;
      }
      pending.push(draw(job));
    }
    const results = await Promise.allSettled(pending);
    drawn = true;
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    if (!complete) return frame;
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

  // resolves once this view state (or a newer one) is on screen
  function draw(view) {
    if (!session) return Promise.resolve();
    asked = view;
    performance.mark("step-start");
    wanted = {view, started: performance.now()};
    if (!running) running = pump();
    return running;
  }

  // a later view that waited off screen draws the state on screen once it comes into view
  const watcher = new IntersectionObserver((entries) => {
    let arrived = false;
    for (const entry of entries) {
      const v = views.find((w) => w.element === entry.target);
      arrived = arrived || (entry.isIntersecting && Boolean(v.waiting));
      v.onScreen = entry.isIntersecting;
    }
    if (arrived && asked) draw(asked);
  }, {rootMargin: NEAR_SCREEN});
  views.filter((v) => v.later).forEach((v) => watcher.observe(v.element));

  return {
    setSession(s) { session = s; },
    draw,
    idle: () => running || Promise.resolve(),
  };
}
