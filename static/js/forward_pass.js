// the network in plain JS, for what the server does not send: one example's forward and
// backward pass for the diagram, and the forward pass over a grid for the decision boundary.
// W: (n_l, n_{l-1}) and b: (n_l, 1) as plain row arrays; examples are columns, as the course.
// non-finite entries come in as NaN (tensors.js withNaN), never as null, which JS would
// read as 0; they come out as NaN or ±∞, which the views mark.

// a NaN input stays NaN, as in NumPy (np.maximum(0, NaN) is NaN): a diverged step's
// non-finite values must reach the picture, not turn into zeros
const G = {
  relu: (z) => (z <= 0 ? 0 : z),
  leaky_relu: (z) => (z <= 0 ? 0.01 * z : z),
  tanh: Math.tanh,
  sigmoid: (z) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))),
  linear: (z) => z,
};
// g'(z), from Z alone (activation_cache holds Z): a recorded A may carry a dropout mask,
// so a = g(z) is recomputed here rather than read
const G_PRIME = {
  relu: (z) => (z > 0 ? 1 : 0),
  leaky_relu: (z) => (z > 0 ? 1 : 0.01),
  tanh: (z) => 1 - Math.tanh(z) ** 2,
  sigmoid: (z) => { const a = G.sigmoid(z); return a * (1 - a); },
  linear: () => 1,
};

export const activate = (name, z) => G[name](z);
export const activationSlope = (name, z) => G_PRIME[name](z);

// output activation + loss pairs whose dZ[L] simplifies to A - Y (the engine's fused heads)
const FUSED = {sigmoid: "binary_cross_entropy", softmax: "categorical_cross_entropy"};
export const isFused = (activation, loss) => FUSED[activation] === loss;

function softmax(z) {
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
}

// one column: a_prev (n_{l-1}) -> z = W a_prev + b, a = g(z)
function layerForward(W, b, aPrev, activation) {
  const z = W.map((row, i) => row.reduce((s, w, k) => s + w * aPrev[k], b[i][0]));
  const a = activation === "softmax" ? softmax(z) : z.map((v) => G[activation](v));
  return {z, a};
}

// dropout of one column: masks[l] is D[l]'s column (0/1 per unit) or null for no dropout
const dropout = (masks, l, keepProb) => (masks && masks[l] ? {d: masks[l], keepProb} : null);

// x: (n_x) -> {A: [x, a1, ..., aL], Z: [null, z1, ..., zL]}; with masks, A[l] is recorded
// after D[l] / keep_prob, as the engine records it
export function forwardColumn(params, activations, x, masks = null, keepProb = 1) {
  const A = [x], Z = [null];
  params.forEach(({W, b}, k) => {
    const {z, a} = layerForward(W, b, A[k], activations[k]);
    const drop = dropout(masks, k + 1, keepProb);
    Z.push(z);
    A.push(drop ? a.map((v, i) => (v * drop.d[i]) / keepProb) : a);
  });
  return {A, Z};
}

const EPS = 1e-15;  // the engine's clip, keeps 1/a finite

function outputDA(loss, aL, y) {
  if (loss === "mse") return aL.map((a, i) => a - y[i]);
  const clip = (a) => Math.min(Math.max(a, EPS), 1 - EPS);
  if (loss === "binary_cross_entropy") return aL.map((a, i) => (1 - y[i]) / (1 - clip(a)) - y[i] / clip(a));
  return aL.map((a, i) => -y[i] / Math.max(a, EPS));
}

// dZ = dA ⊙ g'(Z); softmax (output only, no mask) mixes its units: dZ = a ⊙ (dA - Σₖ dAₖ aₖ)
function activationBackward(act, dA, z, a) {
  if (act === "softmax") {
    const dot = dA.reduce((s, d, k) => s + d * a[k], 0);
    return a.map((ai, i) => ai * (dA[i] - dot));
  }
  return dA.map((d, i) => d * G_PRIME[act](z[i]));
}

// per-example derivatives, the course's scaling (column i is ∂L⁽ⁱ⁾/∂·). with masks, a
// hidden layer's backward first masks its dA as the engine does:
// dZ[l] = (dA[l] ⊙ D[l] / keep_prob) ⊙ g'(Z[l]); dA[l] itself stays W[l+1]ᵀ dZ[l+1]
export function backwardColumn(params, activations, loss, pass, y, masks = null, keepProb = 1) {
  const L = params.length, dA = new Array(L + 1), dZ = new Array(L + 1);
  const aL = pass.A[L];
  dA[L] = outputDA(loss, aL, y);
  for (let l = L; l >= 1; l--) {
    const act = activations[l - 1], drop = dropout(masks, l, keepProb);
    const upstream = drop ? dA[l].map((v, i) => (v * drop.d[i]) / keepProb) : dA[l];
    dZ[l] = l === L && isFused(act, loss)
      ? aL.map((a, i) => a - y[i]) : activationBackward(act, upstream, pass.Z[l], pass.A[l]);
    const W = params[l - 1].W;
    dA[l - 1] = W[0].map((_, k) => W.reduce((s, row, i) => s + row[k] * dZ[l][i], 0));
  }
  return {dA, dZ};
}

// output of the net for many points at once; points: array of x vectors.
// the grid of the decision boundary runs thousands of points per step, so this one works
// on flat Float64Arrays, one layer at a time: A (n_{l-1} × m) -> g(W A + b) (n_l × m)
export function forwardMany(params, activations, points) {
  const m = points.length;
  let A = new Float64Array(points[0].length * m);
  points.forEach((x, j) => x.forEach((v, k) => { A[k * m + j] = v; }));
  params.forEach(({W, b}, l) => {
    const rows = W.length, inner = W[0].length, Z = new Float64Array(rows * m);
    for (let i = 0; i < rows; i++) {
      const z = Z.subarray(i * m, (i + 1) * m).fill(b[i][0]);
      for (let k = 0; k < inner; k++) {
        const w = W[i][k], a = A.subarray(k * m, (k + 1) * m);
        for (let j = 0; j < m; j++) z[j] += w * a[j];
      }
    }
    A = applyActivation(activations[l], Z, rows, m);
  });
  const n = params[params.length - 1].W.length;
  return points.map((_, j) => Array.from({length: n}, (__, i) => A[i * m + j]));
}

function applyActivation(name, Z, rows, m) {
  if (name !== "softmax") {
    const g = G[name];
    for (let k = 0; k < Z.length; k++) Z[k] = g(Z[k]);
    return Z;
  }
  for (let j = 0; j < m; j++) {
    let top = -Infinity, sum = 0;
    for (let i = 0; i < rows; i++) top = Math.max(top, Z[i * m + j]);
    for (let i = 0; i < rows; i++) { Z[i * m + j] = Math.exp(Z[i * m + j] - top); sum += Z[i * m + j]; }
    for (let i = 0; i < rows; i++) Z[i * m + j] /= sum;
  }
  return Z;
}
