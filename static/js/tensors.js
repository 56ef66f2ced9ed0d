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

// the largest finite |value| of a list, 0 if it has none (a loop: a spread into Math.max
// overflows the stack at a few hundred thousand values)
export function largestAbs(values) {
  let m = 0;
  for (const v of values) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
}

export const absMax = (t) => t.data.reduce((m, row) => Math.max(m, largestAbs(row)), 0);

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

// tensors sent as bytes (encoding=u8, docs/api.md "Lean answers"): byte k ≤ LEVELS stands
// for lo (1 − k/LEVELS) + hi k/LEVELS, within (hi − lo)/(2 LEVELS) of the engine's value;
// NON_FINITE is NaN or ±∞, which JSON sends as null (and so does the decoded tensor)
const LEVELS = 254, NON_FINITE = 255;

// v to the digits its precision carries (half a byte's step): 0.4717 with precision 0.002
// reads 0.472, as the decoded values do. place: Math.floor keeps the digit of the
// precision's own place; Math.ceil drops it too (shownTo)
export function roundedTo(v, precision, place = Math.floor) {
  if (!(precision > 0) || v === 0 || !Number.isFinite(v)) return v;
  const digits = Math.floor(Math.log10(Math.abs(v))) - place(Math.log10(precision)) + 1;
  return digits < 1 ? 0 : Number(v.toPrecision(Math.min(digits, 17)));
}

// v as a hover prints it, marked "≈": no digit finer than its precision, so that the last
// digit shown is right or one off (0.0908 within 0.004 reads 0.09, not 0.093)
export const shownTo = (v, precision) => roundedTo(v, precision, Math.ceil);

// the value of every byte of one tensor, at display precision (null: not finite)
// (a level that rounds out of [lo, hi] keeps its digits: rounded, the level nearest 0 of a
// range far from it, −2e7 to −2e3, would read 0, a value that the tensor does not hold)
export function byteValues(lo, hi) {
  const values = new Array(NON_FINITE + 1).fill(null);
  if (lo === null || hi === null) return values;
  const precision = (hi - lo) / (2 * LEVELS);
  for (let k = 0; k <= LEVELS; k++) {
    const level = lo * (1 - k / LEVELS) + hi * (k / LEVELS), rounded = roundedTo(level, precision);
    values[k] = rounded >= lo && rounded <= hi ? rounded : level;
  }
  return values;
}

// the bytes of a tensor, row after row; with delta (encoding=u8delta) each row after the
// first came as (k − k_above) mod 255, a non-finite cell above counting as 0
function byteCodes(t) {
  const text = atob(t.bytes), codes = new Uint8Array(text.length), C = t.shape[1];
  for (let n = 0; n < text.length; n++) {
    const k = text.charCodeAt(n), above = t.delta && n >= C ? codes[n - C] : 0;
    codes[n] = k === NON_FINITE ? k : (k + (above === NON_FINITE ? 0 : above)) % NON_FINITE;
  }
  return codes;
}

// {shape, lo, hi, bytes, delta?, downsampled_from?} -> {shape, data, downsampled_from?,
// precision}: the rows of numbers that every view reads; precision: a value's largest error
export function decodeTensor(t) {
  const [R, C] = t.shape, codes = byteCodes(t), values = byteValues(t.lo, t.hi);
  const data = new Array(R);
  for (let i = 0; i < R; i++) {
    const row = new Array(C);
    for (let j = 0; j < C; j++) row[j] = values[codes[i * C + j]];
    data[i] = row;
  }
  const precision = t.lo === null ? 0 : (t.hi - t.lo) / (2 * LEVELS);
  return {shape: t.shape, data, ...(t.downsampled_from ? {downsampled_from: t.downsampled_from} : {}), precision};
}

const isByteTensor = (v) => typeof v.bytes === "string" && Array.isArray(v.shape);

// an answer with every byte tensor in it decoded (a copy where one was; others as they are)
export function decodeTensors(value) {
  if (Array.isArray(value)) return value.some((v) => v && typeof v === "object") ? value.map(decodeTensors) : value;
  if (!value || typeof value !== "object") return value;
  if (isByteTensor(value)) return decodeTensor(value);
  if (Array.isArray(value.data)) return value;  // a tensor of rows: nothing inside to decode
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeTensors(v)]));
}
