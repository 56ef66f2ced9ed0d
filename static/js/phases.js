// the phases of one iteration, in computation order: forward 1..L, cost, backward L..1,
// update. each phase says which tensors it reads and which it writes (course notation).

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

export function parsePhase(key, L) {
  return phaseList(L)[phaseIndex(key, L)];
}

export function phaseLabel(p) {
  return p.kind === "forward" || p.kind === "backward" ? `${p.kind} · layer ${p.l}` : p.kind;
}

const A = (l) => (l === 0 ? "A[0] = X" : `A[${l}]`);

const hasMask = (l, L, config) => config.keep_prob < 1 && l < L;

// {reads, writes}: plain strings for the phase banner
export function phaseIO(p, L, config) {
  const l = p.l;
  if (p.kind === "forward") {
    return {
      reads: [`${A(l - 1)}`, `W[${l}]`, `b[${l}]`],
      writes: [`Z[${l}]`, `A[${l}]${hasMask(l, L, config) ? `, D[${l}]` : ""}`,
        `linear_cache[${l}] = (A[${l - 1}], W[${l}], b[${l}])`, `activation_cache[${l}] = Z[${l}]`],
    };
  }
  if (p.kind === "cost") {
    // the L2 term (λ/2m) Σ‖W[l]‖² reads every layer's weights
    const reads = [`A[${L}]`, "Y", ...(config.l2 > 0 ? [`W[1..${L}] (L2 term)`] : [])];
    return {reads, writes: ["J (the cost)", `dA[${L}] (start of backward)`]};
  }
  if (p.kind === "backward") {
    const writes = [`dZ[${l}]`, `dW[${l}]`, `db[${l}]`];
    if (l > 1) writes.push(`dA[${l - 1}]`);
    return {
      reads: [`dA[${l}]`, ...(hasMask(l, L, config) ? [`D[${l}] (dropout mask)`] : []),
        `linear_cache[${l}] = (A[${l - 1}], W[${l}], b[${l}])`, `activation_cache[${l}] = Z[${l}]`],
      writes,
    };
  }
  return {
    reads: [`W[1..${L}]`, `b[1..${L}]`, `dW[1..${L}]`, `db[1..${L}]`],
    writes: [`W[1..${L}], b[1..${L}] for the next iteration (${config.optimizer})`],
  };
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
