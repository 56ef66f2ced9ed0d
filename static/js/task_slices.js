// the page's work in slices: a slice that has held the page's thread for its budget gives
// way, so that the browser can paint and run an animation frame (phase play's) before the
// rest; shorter work runs on in one go, without a frame's wait between its parts
export const SLICE_MS = 20;
let sliceStart = 0, budget = Infinity;

const nextTask = () => (globalThis.scheduler && scheduler.yield ? scheduler.yield()
  : new Promise((resolve) => setTimeout(resolve, 0)));

// a new piece of work (a frame to draw) starts a slice of `ms` (Infinity: one go)
export function startSlice(ms) {
  budget = ms;
  sliceStart = performance.now();
}

// true when it gave way: the page may have changed meanwhile. the continuations of what was
// just drawn run first (await), and count towards the slice
export async function giveWay() {
  await null;
  if (performance.now() - sliceStart < budget) return false;
  await nextTask();
  sliceStart = performance.now();
  return true;
}
