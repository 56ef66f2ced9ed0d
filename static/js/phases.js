// the phases of one iteration, in computation order: forward 1..L, cost, backward L..1,
// update. each phase says which tensors it reads and which it writes (course notation).
// config.bug: the run's active classic mistake (run_status.activeBug), which changes what
// backward reads: it forgets dropout's mask, caches A[l], or never opens activation_cache

import {cachesA, forgetsMask, skipsGPrime} from "./mistakes.js";

export function phaseList(L) {
  const list = [];
  for (let l = 1; l <= L; l++) list.push({kind: "forward", l});
  list.push({kind: "cost", l: L});
  for (let l = L; l >= 1; l--) list.push({kind: "backward", l});
  list.push({kind: "update", l: null});
  return list;
}

export const phaseKey = (p) => (p.kind === "forward" || p.kind === "backward" ? `${p.kind}-${p.l}` : p.kind);

export function phaseIndex(key, L) {
  const i = phaseList(L).findIndex((p) => phaseKey(p) === key);
  return i < 0 ? 0 : i;
}

// the phase `delta` steps from phase index k of iteration t, as {iteration, phase}: past
// the update comes the next iteration's forward 1, before forward 1 the previous
// iteration's update; the walk stops at the run's first and last phase
export function phaseStep(t, k, delta, L, steps) {
  const list = phaseList(L), n = list.length;
  const at = Math.max(0, Math.min(steps * n - 1, t * n + k + delta));
  return {iteration: Math.floor(at / n), phase: list[at % n]};
}

// a phase key within L layers: "backward-3" is "backward-2" of a 2-layer run
export function phaseWithin(key, L) {
  const [kind, l] = key.split("-");
  return l === undefined || Number(l) <= L ? key : `${kind}-${L}`;
}

export function parsePhase(key, L) {
  return phaseList(L)[phaseIndex(key, L)];
}

export function phaseLabel(p) {
  return p.kind === "forward" || p.kind === "backward" ? `${p.kind} · layer ${p.l}` : p.kind;
}

// ---- the one table of what each phase reads and writes; the banner (phaseIO), the cache
// inspector's frames (layerRoles) and the quiz (readNames) all read it ----

// an entry's layer for W[1..L] and the like; Y and J have none (null)
export const EVERY = "1..L";

// dropout masks the hidden layers only (CONTRACT §2)
export const hasMask = (l, L, config) => config.keep_prob < 1 && l < L;

const entry = (name, l, note = "") => ({name, l, note});

// {reads, writes}: lists of {name, l, note} in course notation. "A_prev" of layer l is
// A[l-1], the phase's input as linear_forward(A_prev, W, b) names it; forward l writes
// (stores) linear_cache[l] and activation_cache[l], and backward l reads them
export function phaseTensors(p, L, config) {
  const l = p.l, mask = (note) => (hasMask(l, L, config) ? [entry("D", l, note)] : []);
  if (p.kind === "forward") {
    return {reads: [entry("A_prev", l), entry("W", l), entry("b", l)],
      writes: [entry("Z", l), entry("A", l), ...mask(), entry("linear_cache", l), entry("activation_cache", l)]};
  }
  if (p.kind === "cost") {
    // the L2 term (λ/2m) Σ‖W[l]‖² reads every layer's weights
    const l2 = config.l2 > 0 ? [entry("W", EVERY, "(L2 term)")] : [];
    return {reads: [entry("A", L), entry("Y", null), ...l2],
      writes: [entry("J", null, "(the cost)"), entry("dA", L, "(start of backward)")]};
  }
  if (p.kind === "backward") {
    const masks = forgetsMask(config.bug) ? [] : mask("(dropout mask)");
    const activation = skipsGPrime(config.bug) ? [] : [entry("activation_cache", l)];
    return {reads: [entry("dA", l), ...masks, entry("linear_cache", l), ...activation],
      writes: [entry("dZ", l), entry("dW", l), entry("db", l), ...(l > 1 ? [entry("dA", l - 1)] : [])]};
  }
  return {reads: ["W", "b", "dW", "db"].map((name) => entry(name, EVERY)),
    writes: [entry("W", EVERY), entry("b", EVERY, `for the next iteration (${config.optimizer})`)]};
}

// what activation_cache[l] holds: Z[l], or A[l] in the code of the classic mistake that
// caches A (engine/mistakes.py; the inspector frames the correct code's Z beside it)
const activationCache = (l, config) => (cachesA(config.bug)
  ? `activation_cache[${l}] = A[${l}] (the mistake; the correct code's holds Z[${l}])`
  : `activation_cache[${l}] = Z[${l}]`);

// an entry in the banner's words: "A[0] = X", "W[1..3] (L2 term)", "linear_cache[2] = (A[1], W[2], b[2])"
function entryText({name, l, note}, L, config) {
  const at = (k) => (k === EVERY ? `[1..${L}]` : k === null ? "" : `[${k}]`);
  const text = name === "A_prev" ? (l === 1 ? "A[0] = X" : `A[${l - 1}]`)
    : name === "linear_cache" ? `linear_cache[${l}] = (A[${l - 1}], W[${l}], b[${l}])`
      : name === "activation_cache" ? activationCache(l, config) : `${name}${at(l)}`;
  return note ? `${text} ${note}` : text;
}

// {reads, writes}: plain strings for the phase banner
export function phaseIO(p, L, config) {
  const {reads, writes} = phaseTensors(p, L, config), text = (e) => entryText(e, L, config);
  return {reads: reads.map(text), writes: writes.map(text)};
}

// the tensors a cache holds: reading the cache reads them; storing it writes none of them
// (it keeps what forward read and computed)
const CACHES = ["linear_cache", "activation_cache"];
const cached = (name, config) => (name === "linear_cache" ? ["A_prev", "W", "b"]
  : name === "activation_cache" ? [cachesA(config.bug) ? "A" : "Z"] : []);

// [name, layer] pairs an entry touches: an EVERY entry, every layer's; an opened cache, its
// tensors too
function touched({name, l}, L, opened, config) {
  if (l === EVERY) return [...Array(L).keys()].map((k) => [name, k + 1]);
  return [[name, l], ...(opened ? cached(name, config).map((n) => [n, l]) : [])];
}

// the tensors phase p reads, caches opened ("A_prev": the phase's own input A[l-1])
export function readNames(p, L, config) {
  const pairs = phaseTensors(p, L, config).reads.flatMap((e) => touched(e, L, true, config));
  return new Set(pairs.map(([name]) => name).filter((name) => !CACHES.includes(name)));
}

// A[k] is layer k's A and layer k + 1's A_prev: one array
const sameArray = ([name, k]) => (name === "A" ? [["A", k], ["A_prev", k + 1]] : [[name, k]]);

// {name: "read" | "write"} for layer l's tensors and caches (linear_cache,
// activation_cache) in phase p; a tensor both read and written (W in the update) is written
export function layerRoles(p, l, L, config) {
  const {reads, writes} = phaseTensors(p, L, config), roles = {};
  for (const [list, role, opened] of [[reads, "read", true], [writes, "write", false]]) {
    for (const [name, k] of list.flatMap((e) => touched(e, L, opened, config)).flatMap(sameArray)) {
      if (k === l) roles[name] = role;
    }
  }
  return roles;
}

export function phaseSentence(p, L, config) {
  const io = phaseIO(p, L, config);
  const where = p.kind === "forward" || p.kind === "backward" ? `${p.kind}, layer ${p.l}` : p.kind;
  return `${where}: reads ${io.reads.join(", ")}; writes ${io.writes.join(", ")}`;
}

// which tensors of layer l exist once phase p has run (the views fade the others)
export function computedAt(p, l, L) {
  const order = phaseList(L);
  const now = order.findIndex((q) => q.kind === p.kind && q.l === p.l);
  const forwardDone = now >= l - 1;  // index of "forward l" is l-1
  const backwardIndex = (k) => L + 1 + (L - k);  // index of "backward k"
  const gradDone = now >= backwardIndex(l);
  // dA[l] is written by backward l+1 (or the cost, for l = L)
  const dADone = l === L ? now >= L : now >= backwardIndex(l + 1);
  return {
    A_prev: l === 1 || now >= l - 2, W: true, b: true, Z: forwardDone, A: forwardDone,
    D: forwardDone, dA: dADone, dZ: gradDone, dW: gradDone, db: gradDone,
    update: now === order.length - 1,
  };
}
