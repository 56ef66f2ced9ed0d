// pictures of tensors and models on canvases: the cache inspector's heatmaps (a canvas of
// one pixel per cell, stretched by CSS), and pictures under Plotly figures, which draw
// the axes and titles. a Plotly heatmap trace costs ~6 ms to redraw and ten of them
// ~60 ms in headless Chromium on the 2-core target machine; a canvas repaint costs well
// under 1 ms, so a step change stays within its budget.

import {NON_FINITE} from "./plot_theme.js";

const LUT_SIZE = 256;
const luts = new Map();

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// colourscale [[position, "#rrggbb"], ...] -> Uint8Array(LUT_SIZE * 3)
export function lookupTable(scale) {
  if (luts.has(scale)) return luts.get(scale);
  const lut = new Uint8Array(LUT_SIZE * 3), stops = scale.map(([p, c]) => [p, hexToRgb(c)]);
  for (let i = 0; i < LUT_SIZE; i++) {
    const x = i / (LUT_SIZE - 1);
    let k = 0;
    while (k < stops.length - 2 && x > stops[k + 1][0]) k++;
    const [p0, c0] = stops[k], [p1, c1] = stops[k + 1];
    const f = p1 > p0 ? Math.min(1, Math.max(0, (x - p0) / (p1 - p0))) : 0;
    for (let ch = 0; ch < 3; ch++) lut[3 * i + ch] = Math.round(c0[ch] + f * (c1[ch] - c0[ch]));
  }
  luts.set(scale, lut);
  return lut;
}

const GREY = hexToRgb(NON_FINITE);

// rows of numbers painted into `canvas`, one pixel per cell (CSS stretches it, pixelated);
// position(v) places value v on the colour scale, 0..1; null (non-finite) is NON_FINITE
export function paintMatrix(canvas, data, position, scale) {
  const R = data.length, C = R ? data[0].length : 0;
  if (canvas.width !== Math.max(C, 1)) canvas.width = Math.max(C, 1);
  if (canvas.height !== Math.max(R, 1)) canvas.height = Math.max(R, 1);
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(canvas.width, canvas.height), px = image.data;
  const lut = lookupTable(scale);
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < C; j++) {
      const v = data[i][j], o = 4 * (i * C + j);
      px[o + 3] = 255;
      if (!Number.isFinite(v)) { px[o] = GREY[0]; px[o + 1] = GREY[1]; px[o + 2] = GREY[2]; continue; }
      const k = Math.max(0, Math.min(LUT_SIZE - 1, Math.round(position(v) * (LUT_SIZE - 1))));
      px[o] = lut[3 * k]; px[o + 1] = lut[3 * k + 1]; px[o + 2] = lut[3 * k + 2];
    }
  }
  ctx.putImageData(image, 0, 0);
}

// a canvas laid under a Plotly figure (whose background is transparent), covering the box
// {l, t, w, h} in CSS pixels; drawing on it directly skips encoding a picture per step.
// returns its 2-D context, cleared and scaled for high-density screens.
export function underlay(container, box) {
  let c = container.querySelector(":scope > canvas.underlay");
  if (!c) {
    c = document.createElement("canvas");
    c.className = "underlay";
    container.prepend(c);
  }
  const scale = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(box.w * scale)), h = Math.max(1, Math.round(box.h * scale));
  if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
  Object.assign(c.style, {left: `${box.l}px`, top: `${box.t}px`, width: `${box.w}px`, height: `${box.h}px`});
  const ctx = c.getContext("2d");
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.clearRect(0, 0, box.w, box.h);
  return ctx;
}

// a small canvas of raw pixels, to be scaled onto an underlay with drawImage
export function pixelCanvas(R, C, colour) {
  const c = document.createElement("canvas");
  c.width = C;
  c.height = R;
  const ctx = c.getContext("2d"), image = ctx.createImageData(C, R);
  for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) image.data.set(colour(i, j), 4 * (i * C + j));
  ctx.putImageData(image, 0, 0);
  return c;
}

// the colour of value x in [0, 1] on a colour scale, as [r, g, b]
export function scaleColour(scale, x) {
  const lut = lookupTable(scale), k = Math.max(0, Math.min(LUT_SIZE - 1, Math.round(x * (LUT_SIZE - 1))));
  return [lut[3 * k], lut[3 * k + 1], lut[3 * k + 2]];
}

export {hexToRgb};
