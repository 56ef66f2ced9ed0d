// the network diagram in motion while the phases play (phase_player.js): one scene
// (network_scene.js) turns into the next on the canvas, frame by frame, with
// requestAnimationFrame. colours move between served values; nothing is computed.
// - forward l: the edges into layer l take W's colours, then its units light up with A[l];
// - backward l: layer l's units show dA[l], then dZ[l] (a tag says which); the edges into
//   l take dW's colours, and a pulse runs back along them to layer l-1 (dA[l-1] = W[l]ᵀ dZ[l]);
// - update: the edges turn from dW to ΔW, the change the optimizer applied.
// each frame leaves a performance mark "phase-frame" whose detail {paint, gap} holds its
// paint time and the time since the move's previous frame (ms), for bench/bench_page.py
// (marks, not measures: the renderer bounds the measures by clearing them all).

import {DIVERGING} from "../plot_theme.js";
import {scaleColour} from "../tensor_image.js";

const MAX_MARKS = 5000;  // of "phase-frame": the performance buffer stays bounded
// the other views draw the new phase right after this one asks to move; the move waits
// until they are done (an idle moment), or at most START_MS, so that they do not stall it
const START_MS = 300;
let measured = 0;

export const reducedMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

const clamp01 = (x) => Math.min(1, Math.max(0, x));
const ease = (q) => (q < 0.5 ? 2 * q * q : 1 - (-2 * q + 2) ** 2 / 2);
const local = (p, [t0, t1]) => ease(clamp01((p - t0) / (t1 - t0)));
const mixRgb = (a, b, q) => a.map((x, k) => Math.round(x + (b[k] - x) * q));

// {rgb, pos} q of the way from a to b: between two values, along the diverging scale (so
// that a sign change passes through white, 0); from or to grey, straight
function mixColour(a, b, q) {
  if (q <= 0) return {rgb: a.rgb, pos: a.pos};
  if (q >= 1) return {rgb: b.rgb, pos: b.pos};
  if (a.pos === null || b.pos === null) return {rgb: mixRgb(a.rgb, b.rgb, q), pos: null};
  const pos = a.pos + (b.pos - a.pos) * q;
  return {rgb: scaleColour(DIVERGING, (pos + 1) / 2), pos};
}

// [start, end] of each part's move, as fractions of the whole animation
function windowOf(phase, part, l) {
  const here = phase.l === l;
  if (phase.kind === "forward" && here) return part === "node" ? [0.35, 1] : [0, 0.55];
  if (phase.kind === "backward" && here) return part === "node" ? [0, 0.75] : [0.35, 0.75];
  if (phase.kind === "cost" && part === "cost") return [0, 0.6];
  return phase.kind === "update" ? [0, 1] : [0, 0.45];
}

// a backward unit goes to dA in the first 45 % of its window, holds, then goes to dZ
function viaColour(from, node, q) {
  if (q < 0.45) return mixColour(from, node.via, ease(q / 0.45));
  return q < 0.55 ? node.via : mixColour(node.via, node, ease((q - 0.55) / 0.45));
}

function mixNodes(from, to, p) {
  const before = new Map(from.nodes.map((n) => [n.key, n]));
  return to.nodes.map((n) => {
    const start = before.get(n.key) || n, win = windowOf(to.phase, "node", n.l);
    const q = clamp01((p - win[0]) / (win[1] - win[0]));
    const {rgb, pos} = n.via ? viaColour(start, n, q) : mixColour(start, n, ease(q));
    return {...n, rgb, pos};
  });
}

// edges in both scenes change colour and width; the ones of one scene only (the strongest
// of a wide layer differ between W, dW and ΔW) fade in or out
function mixEdges(from, to, p) {
  const after = new Set(to.edges.map((e) => e.key)), before = new Map(from.edges.map((e) => [e.key, e]));
  const moving = to.edges.map((e) => {
    const start = before.get(e.key), q = local(p, windowOf(to.phase, "edge", e.l));
    if (!start) return {...e, alpha: q};
    return {...e, ...mixColour(start, e, q), width: start.width + (e.width - start.width) * q,
      alpha: start.alpha + (1 - start.alpha) * q};
  });
  const leaving = from.edges.filter((e) => !after.has(e.key)).map((e) => ({...e, alpha: e.alpha * (1 - local(p, [0, 0.5]))}));
  return [...leaving, ...moving];
}

// the dots of backward l's pulse: one per edge into l, from layer l towards layer l-1
function pulses(to, p) {
  const {kind, l} = to.phase;
  if (kind !== "backward" || l <= 1 || p < 0.6) return [];
  const q = ease(clamp01((p - 0.6) / 0.4));
  return to.edges.filter((e) => e.l === l).map((e) => ({x: e.b.x + (e.a.x - e.b.x) * q, y: e.b.y + (e.a.y - e.b.y) * q}));
}

// what layer l's units show while they change: "A[2]", "dA[2]" then "dZ[2]"
function tag(to, p) {
  const {kind, l} = to.phase;
  if (kind === "forward") return `A[${l}]`;
  if (kind === "backward") return local(p, windowOf(to.phase, "node", l)) < 0.5 ? `dA[${l}]` : `dZ[${l}]`;
  return kind === "update" ? "ΔW" : null;
}

// the scene p of the way (0..1) from `from` to `to`: positions, phase and legend are the
// new scene's; colours, widths and the cost's opacity move
export function mixScenes(from, to, p) {
  return {...to, nodes: mixNodes(from, to, p), edges: mixEdges(from, to, p),
    cost: from.cost + (to.cost - from.cost) * local(p, windowOf(to.phase, "cost", null)),
    pulses: pulses(to, p), tag: tag(to, p)};
}

function measure(started, gap) {
  performance.mark("phase-frame", {detail: {paint: performance.now() - started, gap}});
  if (++measured > MAX_MARKS) {
    performance.clearMarks("phase-frame");
    measured = 0;
  }
}

// the canvas's one animation at a time: paint(scene) draws a scene; animate() moves from
// `from` to `to` in `ms`, show() paints a scene at once. key names the scene moved to
export function createMotion(paint) {
  let onScreen = null, request = null, waiting = null, heading = null;

  function cancel() {
    if (request !== null) cancelAnimationFrame(request);
    if (waiting !== null) cancelIdleCallback(waiting);
    request = null;
    waiting = null;
  }

  function show(scene, key) {
    cancel();
    heading = key;
    onScreen = scene;
    paint(scene);
  }

  // the clock starts at the first frame, once the page is idle
  function animate(from, to, ms, key) {
    cancel();
    heading = key;
    let start = null, last = null;
    const frame = (now) => {
      const started = performance.now();
      if (start === null) start = now;
      const p = clamp01((now - start) / ms);
      onScreen = mixScenes(from, to, p);
      paint(onScreen);
      measure(started, last === null ? 0 : now - last);
      last = now;
      request = p < 1 ? requestAnimationFrame(frame) : null;
    };
    waiting = requestIdleCallback(() => {
      waiting = null;
      request = requestAnimationFrame(frame);
    }, {timeout: START_MS});
  }

  return {
    show, animate,
    // the scene last painted (on the way, while moving)
    get onScreen() { return onScreen; },
    // the key of the scene on screen, or the one being moved to
    get heading() { return heading; },
  };
}
