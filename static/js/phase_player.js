// phase play: the phases of an iteration advance by themselves, forward 1 … L, cost,
// backward L … 1, update, then the next iteration's forward 1, until pressed again or the
// run ends. the inspector follows the phase's layer. each phase is drawn, then the next
// is scheduled after the pace's time (as player.js does for iterations); the network
// diagram moves during the first MOTION_SHARE of it. a step or phase change that this
// player did not make (a hand on the controls, the iteration player) stops it.
import {phaseList, phaseIndex, phaseKey, phaseStep} from "./phases.js";

// ms per phase of each pace (state.pace, the URL's pace=)
export const PACES = {slow: 2500, normal: 1200, fast: 500};
const MOTION_SHARE = 0.75;  // the rest of the phase, the picture stands still to be read

export function createPhasePlayer({store, renderer, limits, prefetch, onChange}) {
  let playing = false, timer = null, own = false, replay = false, generation = 0;
  const holds = [];
  const pace = () => PACES[store.get().pace] || PACES.normal;

  store.subscribe((s, before) => {
    if (playing && !own && (s.iteration !== before.iteration || s.phase !== before.phase)) stop();
  });

  // the next phase on screen, with the inspector on its layer; false at the run's end
  function advance() {
    const s = store.get(), {L, steps} = limits();
    const k = phaseIndex(s.phase, L), next = phaseStep(s.iteration, k, 1, L, steps);
    if (next.iteration === s.iteration && phaseKey(next.phase) === s.phase) return false;
    own = true;
    replay = false;
    try {
      store.set({iteration: next.iteration, phase: phaseKey(next.phase), ...(next.phase.l ? {layer: next.phase.l} : {})});
    } finally {
      own = false;
    }
    return true;
  }

  // the phase on screen plays again, from the phase before it (at the start)
  async function replayPhase(run) {
    replay = true;
    onChange(true);
    await renderer.idle();
    if (run === generation) replay = false;
  }

  // wait for any hold (a quiz question: its reveal replays the phase, and the learner's
  // "play on" lets it go), then for the rest of the pace. the next iteration is fetched
  // while the picture stands still: a fetched step is parsed on the page's one thread,
  // which would stall the move
  async function settle(run, started) {
    for (const hold of holds) await hold(store.get());
    if (run !== generation) return;
    const wait = (ms) => Math.max(0, ms - (performance.now() - started));
    // (the next iteration starts at forward 1: layer 1)
    setTimeout(() => run === generation && prefetch(store.get().iteration + 1, 1), wait(MOTION_SHARE * pace()));
    timer = setTimeout(() => tick(run), wait(pace()));
  }

  // one phase on: "phase-change" measures until every view has drawn it (bench/)
  async function tick(run) {
    if (run !== generation) return;
    const started = performance.now();
    if (!advance()) {
      stop();
      return;
    }
    await renderer.idle();
    performance.measure("phase-change", {start: started, end: performance.now()});
    await settle(run, started);
  }

  function stop() {
    if (!playing) return;
    playing = false;
    replay = false;
    generation++;
    clearTimeout(timer);
    onChange(false);
  }

  function start() {
    if (!limits()) return;  // no run on screen yet
    const s = store.get(), {L, steps} = limits(), list = phaseList(L);
    // at the run's last phase, the last iteration plays again; the inspector goes to the
    // phase's layer
    const k = s.iteration >= steps - 1 && phaseIndex(s.phase, L) === list.length - 1 ? 0 : phaseIndex(s.phase, L);
    const layer = list[k].l || s.layer;
    playing = true;
    const run = ++generation;
    if (phaseKey(list[k]) !== s.phase || layer !== s.layer) {
      own = true;
      store.set({phase: phaseKey(list[k]), layer});
      own = false;
    }
    replayPhase(run).then(() => settle(run, performance.now()));
  }

  return {
    get playing() { return playing; },
    toggle() { return playing ? stop() : start(); },
    stop,
    // what the network diagram is asked to do on a redraw: move over ms, or (null) not
    motion: () => (playing ? {ms: Math.round(MOTION_SHARE * pace()), replay} : null),
    // hold(state) -> a promise: the next phase waits until it resolves (a quiz question)
    hold(fn) { holds.push(fn); },
  };
}
