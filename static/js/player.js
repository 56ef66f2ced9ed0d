// the play loop: show an iteration, wait until it is drawn, then schedule the next tick
// at the chosen speed. one frame draws at a time; the next few steps are fetched ahead
// (a fixed window, so requests never pile up) while this one draws.

const LOOKAHEAD = 4;  // steps fetched ahead of the one on screen

export function createPlayer({store, renderer, prefetch, lastStep, onChange}) {
  let playing = false, timer = null;

  async function tick() {
    if (!playing) return;
    const started = performance.now(), t = store.get().iteration;
    if (t >= lastStep()) return stop();
    for (let k = 2; k <= LOOKAHEAD + 1 && t + k <= lastStep(); k++) prefetch(t + k);
    store.set({iteration: t + 1});
    await renderer.idle();
    if (!playing) return null;
    const wait = Math.max(0, 1000 / store.get().speed - (performance.now() - started));
    timer = setTimeout(tick, wait);
    return null;
  }

  function stop() {
    playing = false;
    clearTimeout(timer);
    onChange(false);
  }

  return {
    get playing() { return playing; },
    toggle() {
      if (playing) return stop();
      // no run on screen yet (the first one loads): nothing to play, and the view the URL
      // asked for stays (its iteration had gone to 0, "iteration 2 of 0")
      if (lastStep() < 0) return null;
      playing = true;
      onChange(true);
      // at the end, play starts again from the first iteration
      if (store.get().iteration >= lastStep()) store.set({iteration: 0});
      timer = setTimeout(tick, 0);
      return null;
    },
    stop,
  };
}
