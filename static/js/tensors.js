// small reads of CONTRACT tensors {"shape": [r, c], "data": [[...]], "downsampled_from"?}

export const rows = (t) => t.shape[0];
export const cols = (t) => t.shape[1];

// the size the engine computed, even when the server sent a block-averaged copy
export const fullShape = (t) => t.downsampled_from || t.shape;

export const shapeText = (t) => `${fullShape(t)[0]} × ${fullShape(t)[1]}`;

export function formatNumber(x, digits = 4) {
  if (x === null || x === undefined) return "NaN/∞";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e4 || a < 1e-3) return x.toExponential(digits - 1).replace("e+", "e");
  return Number(x.toPrecision(digits)).toString();
}

export function absMax(t) {
  let m = 0;
  for (const row of t.data) for (const v of row) if (v !== null && Math.abs(v) > m) m = Math.abs(v);
  return m;
}

export function column(t, j) {
  return t.data.map((row) => row[j]);
}

export function frobenius(t) {
  let s = 0;
  for (const row of t.data) for (const v of row) if (v !== null) s += v * v;
  return Math.sqrt(s);
}

// the entry (i, j) of the full-size tensor that a cell of a downsampled copy stands for
export function blockOrigin(t, i, j) {
  const [R, C] = fullShape(t);
  return [Math.floor(i * R / t.shape[0]), Math.floor(j * C / t.shape[1])];
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
