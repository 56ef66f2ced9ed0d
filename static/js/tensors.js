// small reads of CONTRACT tensors {"shape": [r, c], "data": [[...]], "downsampled_from"?}

export const rows = (t) => t.shape[0];
export const cols = (t) => t.shape[1];

// the size the engine computed, even when the server sent a block-averaged copy
export const fullShape = (t) => t.downsampled_from || t.shape;

export const shapeText = (t) => `${fullShape(t)[0]} × ${fullShape(t)[1]}`;

// JSON carries NaN and ±∞ as null (CONTRACT §4), so null cannot say which of them it was
export function formatNumber(x, digits = 4) {
  // the JSON's null is NaN or ±∞ alike: say so in words
  if (x === null || x === undefined || Number.isNaN(x)) return "not finite";
  if (x === Infinity || x === -Infinity) return x > 0 ? "∞" : "−∞";
  if (x === 0) return "0";
  const a = Math.abs(x);
  // 4e-6, not 4.000e-6: trailing zeros of the mantissa say nothing
  if (a >= 1e4 || a < 1e-3) return x.toExponential(digits - 1).replace(/\.?0+e/, "e").replace("e+", "e");
  return Number(x.toPrecision(digits)).toString();
}

export function absMax(t) {
  let m = 0;
  for (const row of t.data) for (const v of row) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
}

export function hasNonFinite(t) {
  return t.data.some((row) => row.some((v) => !Number.isFinite(v)));
}

// a copy whose non-finite cells (null in JSON) are NaN, so that arithmetic on them stays
// NaN instead of reading null as 0
export function withNaN(t) {
  return {...t, data: t.data.map((row) => row.map((v) => (v === null ? NaN : v)))};
}

// the block of the full-size tensor that cell (i, j) of a block-averaged copy is the mean
// of: rows [r0, r1) and columns [c0, c1). the server's blocks are fr × fc with the
// smallest factors that give the copy's shape, the last ones cut short (app/serialize)
export function blockOf(t, i, j) {
  const [R, C] = fullShape(t), fr = Math.ceil(R / t.shape[0]), fc = Math.ceil(C / t.shape[1]);
  const r0 = i * fr, c0 = j * fc, r1 = Math.min(R, r0 + fr), c1 = Math.min(C, c0 + fc);
  return {r0, r1, c0, c1, count: (r1 - r0) * (c1 - c0)};
}

// the flat list of a layer's tensors from a step record layer entry, by CONTRACT name
export function layerTensors(entry) {
  if (!entry) return {};
  return {
    ...(entry.linear_cache || {}), ...(entry.activation_cache || {}), ...(entry.grads || {}),
    ...(entry.A !== undefined ? {A: entry.A} : {}), ...(entry.D !== undefined ? {D: entry.D} : {}),
    ...(entry.update ? {updateW: entry.update.W, updateB: entry.update.b} : {}),
  };
}
