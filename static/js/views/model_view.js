// what the model does: the decision boundary of θ_t for 2-D data (the forward pass over a
// grid runs here, from the served W and b), the fitted curve for 1-D regression, and the
// confusion matrix of this step's training batch for the real data sets. Plotly draws the
// axes on fixed ranges; the picture is painted on a canvas under them (tensor_image.js).
import {react, baseLayout, fontSize, PROBABILITY, CLASS_COLOURS} from "../plot_theme.js";
import {forwardMany} from "../forward_pass.js";
import {pixelCanvas, scaleColour, underlay, hexToRgb} from "../tensor_image.js";
import {pointAt} from "../tooltip.js";
import {formatNumber, withNaN} from "../tensors.js";
import {boundarySegments} from "../contour.js";

const GRID = 60;
const BLUES = [[0, "#f7fbff"], [0.3, "#c6dbef"], [0.6, "#6baed6"], [1, "#08519c"]];
let container = null, caption = null, box = null, current = null, legend = null;

const plainParams = (frame) => frame.params.map((p) => ({W: withNaN(p.W).data, b: withNaN(p.b).data}));
// a diverged step's θ or output holds NaN or ±∞: no boundary or curve can be drawn from it
const NOT_FINITE = "; θ or the output holds values that are not finite numbers (NaN or ±∞), " +
  "so only the data is drawn";
const linspace = (a, b, n) => [...Array(n).keys()].map((i) => a + (b - a) * i / (n - 1));
const classOf = (Y, j) => (Y.shape[0] === 1 ? (Y.data[0][j] > 0.5 ? 1 : 0)
  : Y.data.reduce((best, row, k) => (row[j] > Y.data[best][j] ? k : best), 0));
const range = (v) => [Math.min(...v), Math.max(...v)];

// the plotted area grows to hold every batch seen in this run, so it never jumps back
function extent(frame) {
  const rows = frame.batch.X.data, [a, b] = range(rows[0]);
  const [c, d] = range(rows.length > 1 ? rows[1] : frame.batch.Y.data[0]);
  const mx = 0.12 * Math.max(b - a, 1e-9), my = 0.12 * Math.max(d - c, 1e-9);
  if (!box || box.run !== frame.run.id) box = {run: frame.run.id, x: [a - mx, b + mx], y: [c - my, d + my]};
  box.x = [Math.min(box.x[0], a - mx), Math.max(box.x[1], b + mx)];
  box.y = [Math.min(box.y[0], c - my), Math.max(box.y[1], d + my)];
  return {x: [...box.x], y: [...box.y]};
}

function fieldCanvas(frame, ext) {
  const xs = linspace(...ext.x, GRID), ys = linspace(ext.y[1], ext.y[0], GRID);  // row 0 on top
  const out = forwardMany(plainParams(frame), frame.run.config.activations, ys.flatMap((y) => xs.map((x) => [x, y])));
  if (out[0].length === 1) {
    const z = ys.map((_, r) => xs.map((__, c) => out[r * GRID + c][0]));
    return {z, canvas: pixelCanvas(GRID, GRID, (r, c) => [...scaleColour(PROBABILITY, z[r][c]), 230])};
  }
  const rgb = CLASS_COLOURS.map(hexToRgb);
  return {z: null, canvas: pixelCanvas(GRID, GRID, (r, c) => {
    const o = out[r * GRID + c], k = o.indexOf(Math.max(...o));
    return [...rgb[k], Math.round(60 + 120 * o[k])];
  })};
}

function drawPoints(ctx, frame, toPx) {
  const {X, Y} = frame.batch;
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = 0.8;
  for (let j = 0; j < X.shape[1]; j++) {
    const p = toPx(X.data[0][j], X.shape[0] > 1 ? X.data[1][j] : Y.data[0][j]);
    ctx.fillStyle = X.shape[0] > 1 ? CLASS_COLOURS[classOf(Y, j)] : CLASS_COLOURS[3];
    ctx.beginPath();
    ctx.arc(p.x, p.y, 3.2, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
}

function paintBoundary(ctx, frame, ext, size, toPx) {
  if (!frame.finite) return drawPoints(ctx, frame, toPx);
  const f = fieldCanvas(frame, ext);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(f.canvas, 0, 0, size.w, size.h);
  if (f.z) {
    ctx.strokeStyle = "#222";
    ctx.lineWidth = 2;
    for (const [a, b] of boundarySegments(f.z, ext, 0.5)) {
      const p = toPx(...a), q = toPx(...b);
      ctx.beginPath(); ctx.moveTo(p.x, p.y); ctx.lineTo(q.x, q.y); ctx.stroke();
    }
  }
  drawPoints(ctx, frame, toPx);
}

function paintCurve(ctx, frame, ext, size, toPx) {
  if (!frame.finite) return drawPoints(ctx, frame, toPx);
  const grid = linspace(...ext.x, 200);
  const out = forwardMany(plainParams(frame), frame.run.config.activations, grid.map((x) => [x]));
  drawPoints(ctx, frame, toPx);
  ctx.strokeStyle = CLASS_COLOURS[4];
  ctx.lineWidth = 3;
  ctx.beginPath();
  grid.forEach((x, i) => { const p = toPx(x, out[i][0]); if (i) ctx.lineTo(p.x, p.y); else ctx.moveTo(p.x, p.y); });
  ctx.stroke();
}

function paintCounts(ctx, counts, size) {
  const K = counts.length, top = Math.max(...counts.flat(), 1), cw = size.w / K, ch = size.h / K;
  ctx.font = `${fontSize()}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  counts.forEach((row, t) => row.forEach((c, p) => {
    ctx.fillStyle = `rgb(${scaleColour(BLUES, c / top).join(",")})`;
    ctx.fillRect(p * cw, t * ch, cw + 0.5, ch + 0.5);
    ctx.fillStyle = c > top / 2 ? "#fff" : "#222";
    ctx.fillText(String(c), (p + 0.5) * cw, (t + 0.5) * ch);
  }));
}

function confusion(frame) {
  const {Y} = frame.batch, K = Math.max(Y.shape[0], 2), counts = [...Array(K)].map(() => new Array(K).fill(0));
  const AL = withNaN(frame.batch.AL);  // a NaN output is never above 0.5 or another class's
  let right = 0;
  for (let j = 0; j < Y.shape[1]; j++) {
    const t = classOf(Y, j), p = classOf(AL, j);
    counts[t][p] += 1;
    right += t === p;
  }
  return {counts, accuracy: right / Y.shape[1]};
}

// {ext, paint, axes, caption}: the axes stay fixed through a run, so a step change
// repaints the canvas and leaves Plotly's layout untouched
function figure(frame) {
  const {t} = frame, note = frame.finite ? "" : NOT_FINITE;
  if (frame.run.dims[0] === 2) {
    const ext = extent(frame);
    return {ext, paint: paintBoundary, axes: {xaxis: {title: {text: "x₁"}, range: ext.x}, yaxis: {title: {text: "x₂"}, range: ext.y}},
      caption: `Decision boundary of θ at iteration ${t}, over this step's batch${frame.run.dims[frame.run.L] === 1 ? "; black line: P(y = 1) = 0.5" : "; shade: the predicted class"}${note}`};
  }
  if (frame.run.task === "regression") {
    const ext = extent(frame);
    return {ext, paint: paintCurve, axes: {xaxis: {title: {text: "x"}, range: ext.x}, yaxis: {title: {text: "y"}, range: ext.y}},
      caption: `Fitted curve ŷ(x) of θ at iteration ${t}; dots: this step's batch${note}`};
  }
  const {counts, accuracy} = confusion(frame), K = counts.length;
  const ticks = {tickvals: [...Array(K).keys()], ticktext: frame.run.classes.map(String)};
  return {ext: {x: [-0.5, K - 0.5], y: [K - 0.5, -0.5], counts}, paint: (ctx, f, e, size) => paintCounts(ctx, counts, size),
    axes: {xaxis: {title: {text: "predicted"}, range: [-0.5, K - 0.5], ...ticks},
      yaxis: {title: {text: "true"}, range: [K - 0.5, -0.5], ...ticks}},
    caption: `Confusion matrix of this step's training batch (m = ${frame.batch.Y.shape[1]}) at iteration ${t}: accuracy ${(100 * accuracy).toFixed(1)} %` +
      (frame.finite ? "" : "; an output that is not a finite number counts as class 0")};
}

// static legend entries (no data), made once per run: they never make Plotly recalculate
function legendTraces(frame) {
  if (legend && legend.run === frame.run.id) return legend.traces;
  const twoD = frame.run.dims[0] === 2, classes = twoD ? frame.run.classes : [];
  const traces = classes.map((name, k) => ({type: "scatter", mode: "markers", x: [null], y: [null],
    name: `class ${name}`, marker: {color: CLASS_COLOURS[k], size: 8}, hoverinfo: "skip"}));
  if (twoD && frame.run.dims[frame.run.L] === 1) traces.push({type: "scatter", mode: "markers",
    x: [null], y: [null], showlegend: false, hoverinfo: "skip", marker: {color: [0], cmin: 0, cmax: 1,
      colorscale: PROBABILITY, showscale: true, colorbar: {title: {text: "P(y = 1)"}, thickness: 10, len: 0.8}}});
  legend = {run: frame.run.id, traces};
  return traces;
}

export async function update(frame) {
  const fig = figure(frame);
  current = {frame, ext: fig.ext};
  caption.textContent = fig.caption;
  const axes = Object.fromEntries(Object.entries(fig.axes).map(([k, v]) =>
    [k, {...v, fixedrange: true, showgrid: false, zeroline: false}]));
  await react(container, legendTraces(frame), baseLayout({
    margin: {l: 52, r: 12, t: 24, b: 40}, dragmode: false,
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    legend: {orientation: "h", y: 1.0, x: 1, xanchor: "right", yanchor: "bottom"}, ...axes}));
  const size = container._fullLayout._size, ext = fig.ext;
  const toPx = (x, y) => ({x: ((x - ext.x[0]) / (ext.x[1] - ext.x[0])) * size.w, y: ((ext.y[1] - y) / (ext.y[1] - ext.y[0])) * size.h});
  fig.paint(underlay(container, size), frame, ext, size, toPx);
}

function describe(p) {
  if (!current || p.x < 0 || p.x > 1 || p.y < 0 || p.y > 1) return null;
  const {frame, ext} = current, x = ext.x[0] + p.x * (ext.x[1] - ext.x[0]), y = ext.y[0] + p.y * (ext.y[1] - ext.y[0]);
  if (ext.counts) {
    const t = Math.round(y), q = Math.round(x), names = frame.run.classes;
    return ext.counts[t] && q in ext.counts[t] ? `true ${names[t]}, predicted ${names[q]}: ${ext.counts[t][q]} examples` : null;
  }
  const params = plainParams(frame), acts = frame.run.config.activations;
  if (frame.run.dims[0] === 1) return `x = ${formatNumber(x, 3)}: ŷ = ${formatNumber(forwardMany(params, acts, [[x]])[0][0])}`;
  const out = forwardMany(params, acts, [[x, y]])[0];
  return `x₁ = ${formatNumber(x, 3)}, x₂ = ${formatNumber(y, 3)}\n` + (out.length === 1
    ? `P(y = 1) = ${formatNumber(out[0])}` : out.map((v, k) => `P(class ${k}) = ${formatNumber(v, 3)}`).join("\n"));
}

export async function render(element, frame) {
  caption = document.createElement("p");
  caption.className = "caption";
  container = document.createElement("div");
  container.className = "plot";
  element.replaceChildren(caption, container);
  await update(frame);
  pointAt(container, describe);
}
