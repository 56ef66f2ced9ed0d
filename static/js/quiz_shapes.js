// the quiz's shape questions: "dW[2]: ? × ?" about a tensor that the phase writes, with this
// run's n[l] and m. each wrong choice is a classic slip (the transpose, the batch axis kept
// or lost) and its note names what really has that shape. pure: no DOM.

const OPTIONS = 4;  // the right shape and up to three slips
const label = ([r, c]) => `${r} × ${c}`;

// {name, shape, formula, slips: [[shape, note], …]} for the tensors that phase p writes
function targets(p, {dims, m, L}) {
  const l = p.kind === "cost" ? L : p.l, n = dims[l], np = dims[l - 1];
  const prev = l === 1 ? "A[0]" : `A[${l - 1}]`;
  const columns = [[m, n], "examples are columns (X is n_x × m): m is the second axis"];
  if (p.kind === "forward") {
    const Z = {name: `Z[${l}]`, shape: [n, m],
      formula: `Z[${l}] = W[${l}] ${prev} + b[${l}]: (${n} × ${np})(${np} × ${m}) + (${n} × 1), b broadcast over the columns → ${n} × ${m}, one column per example`,
      slips: [columns, [[n, np], `that is W[${l}]'s shape; the product with ${prev} (${np} × ${m}) brings the m columns`],
        [[n, 1], `that is b[${l}]'s; b is broadcast over the m examples`], [[np, m], `that is ${prev}'s, the layer's input`]]};
    const A = {...Z, name: `A[${l}]`,
      formula: `A[${l}] = g(Z[${l}]), element by element: Z[${l}]'s shape, ${n} × ${m}`};
    return [Z, A];
  }
  if (p.kind === "cost") {
    return [{name: `dA[${L}]`, shape: [n, m], lead: `the cost writes J and dA[${L}] = ∂L/∂A[${L}], where backward starts. `,
      formula: `dA[${L}] = ∂L⁽ⁱ⁾/∂A[${L}]⁽ⁱ⁾, one per-example derivative per entry of A[${L}] (${n} × ${m}); the 1/m comes later, in dW and db`,
      slips: [[[1, 1], "that is J's: the cost is one number, its derivative is not"], columns,
        [[n, 1], "that would average over the batch; dA keeps one column per example"]]}];
  }
  return backwardTargets(l, {n, np, m, prev, columns});
}

function backwardTargets(l, {n, np, m, prev, columns}) {
  const dZ = [[n, m], `that is dZ[${l}]'s`];
  const dW = {name: `dW[${l}]`, shape: [n, np],
    formula: `dW[${l}] = (1/m) dZ[${l}] ${prev}ᵀ: (${n} × ${m})(${m} × ${np}) → ${n} × ${np}, W[${l}]'s shape: the m = ${m} examples are averaged away`,
    slips: [[[np, n], `that is W[${l}]ᵀ's: dW has W's shape, so that W − α dW makes sense`],
      [dZ[0], `that is dZ[${l}]'s: the product with ${prev}ᵀ sums over the m examples`],
      [[np, m], `that is ${prev}'s`], [[n, 1], `that is db[${l}]'s`], [[1, 1], "one number would be a sum over everything"]]};
  const db = {name: `db[${l}]`, shape: [n, 1],
    formula: `db[${l}] = (1/m) Σᵢ dZ[${l}], summed over the examples (axis=1, keepdims): ${n} × 1, b[${l}]'s shape`,
    slips: [[dZ[0], `that is dZ[${l}]'s: db sums it over the m examples`], [[1, n], `b[${l}] is a column, ${n} × 1`],
      [[1, 1], "np.sum without axis=1 would sum the units too"], [[n, np], `that is dW[${l}]'s`]]};
  const dZt = {name: `dZ[${l}]`, shape: [n, m],
    formula: `dZ[${l}] = dA[${l}] ∗ g′(Z[${l}]), element by element: Z[${l}]'s shape, ${n} × ${m}`,
    slips: [columns, [[n, np], `that is dW[${l}]'s`], [[n, 1], `that is db[${l}]'s`], [[np, m], `that is ${prev}'s`]]};
  const list = [dW];
  if (l > 1) {
    list.push({name: `dA[${l - 1}]`, shape: [np, m],
      formula: `dA[${l - 1}] = W[${l}]ᵀ dZ[${l}]: (${np} × ${n})(${n} × ${m}) → ${np} × ${m}, ${prev}'s shape, for backward, layer ${l - 1}`,
      slips: [[dZ[0], `that is dZ[${l}]'s: W[${l}]ᵀ maps the ${n} units back onto layer ${l - 1}'s ${np}`],
        [[np, n], `that is W[${l}]ᵀ's; dZ[${l}] brings the m columns`], [[m, np], columns[1]], [[n, np], `that is W[${l}]'s`]]});
  }
  return [...list, db, dZt];
}

// the right shape first, then the first slips whose shapes differ from it and each other
function choices(target) {
  const seen = new Set([label(target.shape)]), out = [{id: label(target.shape), label: label(target.shape), right: true, note: ""}];
  for (const [shape, note] of target.slips) {
    if (out.length >= OPTIONS || seen.has(label(shape))) continue;
    seen.add(label(shape));
    out.push({id: label(shape), label: label(shape), right: false, note});
  }
  return out;
}

// the question about one tensor that phase p writes; which one turns with the iteration t
export function shapeQuestion(p, facts, t) {
  const list = targets(p, facts), target = list[(t + (p.kind === "forward" ? p.l - 1 : facts.L - p.l)) % list.length];
  const sizes = facts.dims.map((n, l) => `n[${l}] = ${n}`).join(", ");
  return {kind: "shape", multi: false, options: choices(target), target: target.name,
    prompt: `${target.name} : ? × ?`,
    context: `${target.lead || ""}This run: ${sizes}; m = ${facts.m} examples in the batch`,
    why: [target.formula]};
}
