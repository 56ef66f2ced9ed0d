// what the network diagram shows at one phase: where each neuron and edge goes, and its
// colour, from the frame's served values. neurons are coloured by the example's A
// (forward), dZ (backward); edges by W in forward, dW in backward and the applied update
// ΔW in the update phase; layers the phase has not reached stay grey. colours are drawing,
// not maths: every value is the engine's (step_frame.js). the view paints a scene, and
// network_motion.js moves from one scene to the next.
import {INACTIVE, NON_FINITE, divergingColour} from "../plot_theme.js";
import {formatNumber, largestAbs} from "../tensors.js";
import {hexToRgb} from "../tensor_image.js";
import {OWN_RANGES} from "../colour_scale.js";

export const MAX_SHOWN = 10;  // neurons drawn per layer; wider layers show "+N more"
// between layers wider than MAX_SHOWN, only the TOP_EDGES strongest (by |value|) of the
// edges between drawn neurons: a hundred lines of equal weight hide the few that matter
export const TOP_EDGES = 40;
export const DIAGRAM_WIDTH = 0.86;  // of the figure; the colour legend takes the rest
export const TOP = 0.84, BOTTOM = 0.06;  // vertical band of the neurons, in paper units
export const NOTED_BOTTOM = 0.17;  // the band's foot when notes on thinned edges go under it
const IDLE_NODE = hexToRgb("#eeeeee");

export const shown = (n) => Math.min(n, MAX_SHOWN);

// neuron i of layer l in paper units (0..1, y up)
export function position(dims, l, i) {
  const tallest = shown(Math.max(...dims)), n = shown(dims[l]);
  const bottom = dims.some((_, k) => k > 0 && thinned(dims, k)) ? NOTED_BOTTOM : BOTTOM, step = (TOP - bottom) / Math.max(tallest, 2);
  return {x: ((l + 0.5) / dims.length) * DIAGRAM_WIDTH, y: (TOP + bottom) / 2 + ((n - 1) / 2 - i) * step};
}

// the tensor on the edges into layer l at phase p, or null (grey: not reached yet)
export function edgeSource(frame, p, l) {
  const param = frame.params[l - 1];
  if (p.kind === "update") return {tensor: param.updateW, name: "ΔW"};
  if (p.kind === "backward") return l >= p.l ? {tensor: param.dW, name: "dW"} : null;
  return p.kind === "cost" || l <= p.l ? {tensor: param.W, name: "W"} : null;
}

// the example's values on layer l's neurons at phase p, or null (grey)
export function nodeValues(frame, p, l) {
  const ex = frame.example;
  if (p.kind === "backward") return l >= p.l && l > 0 ? {v: ex.dZ[l], name: "dZ"} : null;
  if (p.kind === "forward" && l > p.l) return null;
  return {v: ex.A[l], name: l === 0 ? "X" : "A"};
}

// the largest finite |value|: the colour range (non-finite values are drawn grey)
const maxAbs = (values) => Math.max(1e-12, largestAbs(values));

// a JSON null is a non-finite value: NaN, which every colour and width below marks
const finiteOrNaN = (v) => (v === null ? NaN : v);

// whether the pair of layers l-1, l is wider than the drawing and has more than TOP_EDGES
// edges between drawn neurons: it shows its strongest ones only
export const thinned = (dims, l) => (dims[l] > MAX_SHOWN || dims[l - 1] > MAX_SHOWN) &&
  shown(dims[l]) * shown(dims[l - 1]) > TOP_EDGES;

// [i, k] of the edges drawn into layer l: all between drawn neurons, or the TOP_EDGES
// largest |values| of `data` among them (non-finite ones first: a diverged step shows them)
function chosenEdges(dims, l, data) {
  const pairs = [];
  for (let i = 0; i < shown(dims[l]); i++) for (let k = 0; k < shown(dims[l - 1]); k++) pairs.push([i, k]);
  if (!thinned(dims, l)) return pairs;
  const size = ([i, k]) => {
    const v = finiteOrNaN(data[i][k]);
    return Number.isFinite(v) ? Math.abs(v) : Infinity;
  };
  return pairs.sort((a, b) => size(b) - size(a)).slice(0, TOP_EDGES);
}

// each pair of layers' largest finite |value| on its edges at this step (0 where every
// value is 0 or none is finite); null where the phase has not reached the layer
export const edgeTops = (frame, p) => frame.run.dims.map((_, l) => {
  const source = l > 0 && edgeSource(frame, p, l);
  return source ? largestAbs(source.tensor.data.flat()) : null;
});

// the phase at the end of p's pass, where every layer is reached: backward 1 for a backward
// phase, the cost for a forward one (its W, A), the cost and the update for themselves
export const passEnd = (p, L) => (p.kind === "backward" ? {kind: "backward", l: 1}
  : p.kind === "forward" ? {kind: "cost", l: L} : p);

// the colour ranges of the edges: one for them all, so that the diagram compares the
// layers (a vanishing dW[1] is faint beside dW[6]), or with the colours per tensor or per
// run (each heatmap its own range) each layer's own (edgeTops, never below 1e-12). the one
// range is the whole pass's, layers not reached yet included, so that an edge keeps its
// colour from one phase of the pass to the next
export function edgeRanges(frame, p) {
  const tops = edgeTops(frame, p).map((top) => (top === null ? null : maxAbs([top])));
  if (OWN_RANGES.has(frame.scale)) return tops;
  const all = maxAbs(edgeTops(frame, passEnd(p, frame.run.L)).filter((top) => top !== null));
  return tops.map((top) => (top === null ? null : all));
}

function edgesOf(frame, p, px) {
  const dims = frame.run.dims, edges = [], tops = edgeRanges(frame, p);
  for (let l = 1; l < dims.length; l++) {
    const source = edgeSource(frame, p, l), data = (source ? source.tensor : frame.params[l - 1].W).data;
    const top = tops[l] || 1;
    for (const [i, k] of chosenEdges(dims, l, data)) {
      const v = source ? finiteOrNaN(data[i][k]) / top : 0;
      edges.push({key: `${l}:${i}:${k}`, l, a: px(position(dims, l - 1, k)), b: px(position(dims, l, i)),
        rgb: hexToRgb(source ? divergingColour(v) : INACTIVE), pos: source && Number.isFinite(v) ? v : null, alpha: 1,
        width: !source ? 0.6 : Number.isFinite(v) ? 0.6 + 3.4 * Math.abs(v) : 2});
    }
  }
  return edges;
}

// a unit that this step's dropout mask D[l] switched off for the example: dashed, crossed
function dropped(frame, l, i) {
  const masks = frame.example.masks;
  return Boolean(masks && masks[l] && masks[l][i] === 0);
}

function nodeText(frame, s, l, i, off) {
  if (!s) return `layer ${l}, unit ${i}: not computed yet in this phase`;
  const value = `${s.name}[${l}]${i} = ${formatNumber(s.v[i], 6)} (example ${frame.example.index})`;
  return off ? `${value}\ndropped: D[${l}]${i} = 0 for this example in this iteration` : value;
}

// the dA[l] that backward l starts from (served for every layer; null if absent)
const incoming = (frame, p) => (p.kind === "backward" && frame.example.dA[p.l]) || null;

// backward l turns layer l's units from dA[l] (arrived from layer l+1) to dZ[l]: one colour
// range holds both, so that the picture shows how much g'(Z) shrinks the gradient. it is the
// whole pass's range (every layer's A; every layer's dA and dZ), so that a unit keeps its
// colour from one phase to the next (dZ[3] had turned from pale to dark blue between
// backward 3 and 2, as dA[3] left the range)
function nodeRange(frame, p) {
  const end = passEnd(p, frame.run.L), layers = frame.run.dims.map((_, l) => l);
  const drawn = layers.map((l) => nodeValues(frame, end, l)).filter(Boolean).flatMap((s) => s.v.slice(0, MAX_SHOWN));
  const arriving = end.kind !== "backward" ? []
    : layers.slice(1).flatMap((l) => (incoming(frame, {kind: "backward", l}) || []).slice(0, MAX_SHOWN));
  return maxAbs([...drawn, ...arriving]);
}

// {rgb, pos}: a value's colour, and its place on the diverging scale (-1..1; null: grey)
const colourOf = (v, top) => (Number.isFinite(v) ? {rgb: hexToRgb(divergingColour(v / top)), pos: v / top}
  : {rgb: hexToRgb(NON_FINITE), pos: null});
const IDLE = {rgb: IDLE_NODE, pos: null};

function nodesOf(frame, p, px, values, top) {
  const dims = frame.run.dims, nodes = [], dA = incoming(frame, p);
  dims.forEach((n, l) => {
    const s = values[l], arriving = dA && l === p.l;
    for (let i = 0; i < shown(n); i++) {
      const at = position(dims, l, i), off = Boolean(s) && dropped(frame, l, i);
      nodes.push({key: `${l}:${i}`, l, i, at, c: px(at), off, text: nodeText(frame, s, l, i, off),
        ...(s ? colourOf(s.v[i], top) : IDLE), stroke: s ? "#333" : "#aaa",
        // the colour on the way: dA[l], before g'(Z) makes it dZ[l]
        via: arriving ? colourOf(dA[i], top) : null});
    }
  });
  return nodes;
}

// the diagram at phase p (the frame's own by default) in a box of w × h CSS pixels:
// {phase, nodes, edges, top, legend, cost}; px: paper units -> pixels
export function scene(frame, {w, h}, p = frame.phase) {
  const px = (q) => ({x: q.x * w, y: (1 - q.y) * h});
  const values = frame.run.dims.map((_, l) => nodeValues(frame, p, l)), top = nodeRange(frame, p);
  return {phase: p, nodes: nodesOf(frame, p, px, values, top), edges: edgesOf(frame, p, px), top,
    legend: p.kind !== "backward" ? "A" : incoming(frame, p) ? "dA, dZ" : "dZ", cost: p.kind === "cost" ? 1 : 0};
}

// whether the diagram shows a value that is not a finite number (a diverged step)
export function showsNonFinite(frame) {
  const dims = frame.run.dims, p = frame.phase, cut = (rows) => rows.slice(0, MAX_SHOWN).map((r) => r.slice(0, MAX_SHOWN));
  const nodesBad = dims.some((_, l) => {
    const s = nodeValues(frame, p, l);
    return s && s.v.slice(0, MAX_SHOWN).some((v) => !Number.isFinite(v));
  });
  return nodesBad || dims.slice(1).some((_, k) => {
    const source = edgeSource(frame, p, k + 1);
    return source && cut(source.tensor.data).flat().some((v) => !Number.isFinite(v));
  });
}

// the pairs of layers that show their strongest edges only: [{l, drawn, total}]
export function thinnedPairs(dims) {
  const pairs = [];
  for (let l = 1; l < dims.length; l++) {
    if (thinned(dims, l)) pairs.push({l, between: shown(dims[l]) * shown(dims[l - 1]), total: dims[l] * dims[l - 1]});
  }
  return pairs;
}
