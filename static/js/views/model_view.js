// what the model does: the decision boundary of θ_t for 2-D data, the fitted curve for
// 1-D regression, both evaluated by the engine over a grid (the boundary route, CONTRACT
// §4), and the confusion matrix of this step's training batch for the real data sets.
// Plotly draws the axes on fixed ranges; the picture is painted on a canvas under them
// (tensor_image.js). The page computes no network maths here: it draws served numbers.
import {react, baseLayout, fontSize, PROBABILITY, CLASS_COLOURS, NON_FINITE} from "../plot_theme.js";
import {pixelCanvas, scaleColour, underlay, hexToRgb} from "../tensor_image.js";
import {pointAt} from "../tooltip.js";
import {formatNumber, withNaN} from "../tensors.js";
import {boundarySegments} from "../contour.js";

const BLUES = [[0, "#f7fbff"], [0.3, "#c6dbef"], [0.6, "#6baed6"], [1, "#08519c"]];
const GREY = [...hexToRgb(NON_FINITE), 230];
let container = null, caption = null, box = null, current = null, legend = null;

// a diverged step's θ or output holds NaN or ±∞: no boundary or curve can be drawn from it
const NOT_FINITE = "; θ or the output holds values that are not finite numbers (NaN or ±∞), " +
  "so only the data is drawn";
const classOf = (Y, j) => (Y.shape[0] === 1 ? (Y.data[0][j] > 0.5 ? 1 : 0)
  : Y.data.reduce((best, row, k) => (row[j] > Y.data[best][j] ? k : best), 0));
const range = (v) => [Math.min(...v), Math.max(...v)];
const spacing = (v) => (v[v.length - 1] - v[0]) / Math.max(v.length - 1, 1);
// the grid's first and last points: the same at every resolution (the route pads the data's
// range by 12 %), so the axes stay put when playing asks for a coarser grid
const ends = (v) => [v[0], v[v.length - 1]];

// the y range of a fit: every batch seen in this run, padded, so that it never jumps back
function fitRange(frame) {
  const [c, d] = range(frame.batch.Y.data[0]), my = 0.12 * Math.max(d - c, 1e-9);
  if (!box || box.run !== frame.run.id) box = {run: frame.run.id, y: [c - my, d + my]};
  box.y = [Math.min(box.y[0], c - my), Math.max(box.y[1], d + my)];
  return [...box.y];
}

// a fit far off the data (a diverging θ's ŷ reaches 1e147) draws nowhere on the data's
// axes: the caption says where it went, rather than leave the curve silently missing
function offPlot(boundary, [low, high]) {
  const values = boundary.output.data[0].filter((v) => v !== null);
  if (!values.length || values.some((v) => v >= low && v <= high)) return "";
  const [a, b] = range(values);
  return `; the curve is off the plot: ŷ runs from ${formatNumber(a, 3)} to ${formatNumber(b, 3)}`;
}

// the served grid's rows from the top (largest y first), as the canvas and contour.js read them
const fromTop = (rows) => [...rows].reverse();

// binary: P(y = 1) on the probability scale; multiclass: the served class's colour, more
// opaque where the served top-class probability is higher; a null cell is grey
function fieldCanvas(boundary) {
  const R = boundary.y.length, C = boundary.x.length, z = fromTop(boundary.output.data);
  if (boundary.kind === "classification") {
    return pixelCanvas(R, C, (r, c) => (z[r][c] === null ? GREY
      : [...scaleColour(PROBABILITY, z[r][c]), 230]));
  }
  const rgb = CLASS_COLOURS.map(hexToRgb), p = fromTop(boundary.probability.data);
  return pixelCanvas(R, C, (r, c) => (z[r][c] === null || p[r][c] === null ? GREY
    : [...rgb[z[r][c]], Math.round(60 + 120 * p[r][c])]));
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

// the served P(y = 1) = 0.5 line (marching squares draws it; the numbers are the engine's)
function drawContour(ctx, boundary, toPx) {
  const z = fromTop(boundary.output.data).map((row) => row.map((v) => (v === null ? NaN : v)));
  const ext = {x: ends(boundary.x), y: ends(boundary.y)};
  ctx.strokeStyle = "#222";
  ctx.lineWidth = 2;
  for (const [a, b] of boundarySegments(z, ext, 0.5)) {
    const p = toPx(...a), q = toPx(...b);
    ctx.beginPath(); ctx.moveTo(p.x, p.y); ctx.lineTo(q.x, q.y); ctx.stroke();
  }
}

function paintBoundary(ctx, frame, size, toPx) {
  if (frame.finite) {
    ctx.imageSmoothingEnabled = true;
    // each grid value is the centre of its pixel: the picture reaches half a cell past
    // the first and last grid points (the canvas clips it to the axes)
    const {x, y} = frame.boundary, half = (v) => (v[v.length - 1] - v[0]) / (2 * (v.length - 1));
    const p = toPx(x[0] - half(x), y[y.length - 1] + half(y)), q = toPx(x[x.length - 1] + half(x), y[0] - half(y));
    ctx.drawImage(fieldCanvas(frame.boundary), p.x, p.y, q.x - p.x, q.y - p.y);
    if (frame.boundary.kind === "classification") drawContour(ctx, frame.boundary, toPx);
  }
  drawPoints(ctx, frame, toPx);
}

function paintCurve(ctx, frame, size, toPx) {
  drawPoints(ctx, frame, toPx);
  if (!frame.finite) return;
  const {x, output} = frame.boundary;
  ctx.strokeStyle = CLASS_COLOURS[4];
  ctx.lineWidth = 3;
  ctx.beginPath();
  let drawing = false;  // a null (non-finite) prediction breaks the curve
  x.forEach((v, i) => {
    const y = output.data[0][i];
    if (y === null) { drawing = false; return; }
    const p = toPx(v, y);
    if (drawing) ctx.lineTo(p.x, p.y); else ctx.moveTo(p.x, p.y);
    drawing = true;
  });
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

// the predicted class of example j: the engine's (the predictions route, batch.classes;
// null where the output is not finite), else the served A read as a class (argmax, or
// A > 0.5 for one output unit); a NaN output is never above 0.5 or another class's
function predictor(batch) {
  if (batch.classes) return (j) => batch.classes[j] ?? 0;
  const AL = withNaN(batch.AL);
  return (j) => classOf(AL, j);
}

// counts of (true class, predicted class) over the batch, the served Y as the truth
function confusion(frame) {
  const {Y} = frame.batch, K = Math.max(Y.shape[0], 2), counts = [...Array(K)].map(() => new Array(K).fill(0));
  const predicted = predictor(frame.batch);
  let right = 0;
  for (let j = 0; j < Y.shape[1]; j++) {
    const t = classOf(Y, j), p = predicted(j);
    counts[t][p] += 1;
    right += t === p;
  }
  return {counts, accuracy: right / Y.shape[1]};
}

// the caption's words for the P(y = 1) = 0.5 line: where the grid's served probabilities
// all lie on one side of 0.5, there is no line to draw, and the caption says so
export function levelLine(boundary) {
  const values = boundary.output.data.flat().filter((v) => v !== null);
  // the line is drawn where P(y = 1) < 0.5 turns ≥ 0.5 (contour.js): both must be there
  if (!values.length || (values.some((v) => v < 0.5) && values.some((v) => v >= 0.5))) {
    return "black line: P(y = 1) = 0.5";
  }
  if (values.every((v) => v > 0.5)) {
    return "no black line: P(y = 1) > 0.5 everywhere on the grid, so every point is predicted class 1";
  }
  if (values.every((v) => v === 0.5)) {  // a zero init's first step: a tie, which is class 0
    return "no black line: P(y = 1) = 0.5 everywhere on the grid, a tie, so every point is predicted class 0";
  }
  return values.every((v) => v < 0.5)
    ? "no black line: P(y = 1) < 0.5 everywhere on the grid, so every point is predicted class 0"
    : "no black line: P(y = 1) ≥ 0.5 everywhere on the grid";
}

// {ext, paint, axes, caption}: the served grid spans every example of the run's data, so
// the axes stay fixed through a run and a step change only repaints the canvas
function figure(frame) {
  const {t, boundary} = frame, note = frame.finite ? "" : NOT_FINITE;
  if (boundary && boundary.kind !== "regression" && boundary.y) {
    const ext = {x: ends(boundary.x), y: ends(boundary.y)};
    const shade = boundary.kind === "classification" ? levelLine(boundary) : "shade: the predicted class";
    return {ext, paint: paintBoundary, axes: {xaxis: {title: {text: "x₁"}, range: ext.x}, yaxis: {title: {text: "x₂"}, range: ext.y}},
      caption: `Decision boundary of θ at iteration ${t}, evaluated by the engine on a ${boundary.x.length} × ${boundary.y.length} grid, over this step's batch; ${shade}${note}`};
  }
  if (boundary && boundary.kind === "regression") {
    const ext = {x: ends(boundary.x), y: fitRange(frame)};
    return {ext, paint: paintCurve, axes: {xaxis: {title: {text: "x"}, range: ext.x}, yaxis: {title: {text: "y"}, range: ext.y}},
      caption: `Fitted curve ŷ(x) of θ at iteration ${t}, evaluated by the engine at ${boundary.x.length} points; dots: this step's batch` +
        (note || offPlot(boundary, ext.y))};
  }
  const {counts, accuracy} = confusion(frame), K = counts.length;
  const ticks = {tickvals: [...Array(K).keys()], ticktext: frame.run.classes.map(String)};
  return {ext: {x: [-0.5, K - 0.5], y: [K - 0.5, -0.5], counts}, paint: (ctx, f, size) => paintCounts(ctx, counts, size),
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

// what the picture draws from: θ_t's served grid or predictions, and the batch (step_renderer.js
// redraws it when one changes)
export const inputs = ({t, boundary, finite, batch}) => [t, boundary, finite, batch.X, batch.Y, batch.classes, batch.AL];

export async function update(frame) {
  const fig = figure(frame);
  current = {frame, ext: fig.ext};
  caption.textContent = fig.caption;
  container.setAttribute("aria-label", fig.caption);
  const axes = Object.fromEntries(Object.entries(fig.axes).map(([k, v]) =>
    [k, {...v, fixedrange: true, showgrid: false, zeroline: false}]));
  await react(container, legendTraces(frame), baseLayout({
    margin: {l: 52, r: 12, t: 24, b: 40}, dragmode: false,
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    legend: {orientation: "h", y: 1.0, x: 1, xanchor: "right", yanchor: "bottom"}, ...axes}));
  const size = container._fullLayout._size, ext = fig.ext;
  const toPx = (x, y) => ({x: ((x - ext.x[0]) / (ext.x[1] - ext.x[0])) * size.w, y: ((ext.y[1] - y) / (ext.y[1] - ext.y[0])) * size.h});
  fig.paint(underlay(container, size), frame, size, toPx);
}

// the served grid point nearest to v along the grid axis `points` (ascending, evenly spaced)
const nearest = (points, v) => Math.max(0, Math.min(points.length - 1, Math.round((v - points[0]) / spacing(points))));

// what the engine served at the grid point under the mouse
function servedAt(boundary, x, y) {
  const j = nearest(boundary.x, x);
  if (boundary.kind === "regression") {
    return `x = ${formatNumber(boundary.x[j], 3)}: ŷ = ${formatNumber(boundary.output.data[0][j])}`;
  }
  const i = nearest(boundary.y, y), where = `x₁ = ${formatNumber(boundary.x[j], 4)}, x₂ = ${formatNumber(boundary.y[i], 4)}\n`;
  const out = boundary.output.data[i][j];
  if (boundary.kind === "classification") return `${where}P(y = 1) = ${formatNumber(out)}`;
  return `${where}predicted class ${out === null ? "–" : out} with P = ${formatNumber(boundary.probability.data[i][j])}`;
}

function describe(p) {
  if (!current || p.x < 0 || p.x > 1 || p.y < 0 || p.y > 1) return null;
  const {frame, ext} = current, x = ext.x[0] + p.x * (ext.x[1] - ext.x[0]), y = ext.y[0] + p.y * (ext.y[1] - ext.y[0]);
  if (ext.counts) {
    const t = Math.round(y), q = Math.round(x), names = frame.run.classes;
    return ext.counts[t] && q in ext.counts[t] ? `true ${names[t]}, predicted ${names[q]}: ${ext.counts[t][q]} examples` : null;
  }
  return frame.finite && frame.boundary ? servedAt(frame.boundary, x, y) : null;
}

export async function render(element, frame) {
  caption = document.createElement("p");
  caption.className = "caption";
  container = document.createElement("div");
  container.className = "plot";
  container.setAttribute("role", "figure");
  element.replaceChildren(caption, container);
  await update(frame);
  pointAt(container, describe);
}
