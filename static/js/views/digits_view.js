// digits as pictures: the chosen example as its 8 × 8 image, each row of W[1] as an 8 × 8
// template (what pattern of pixels drives that unit), and the example's output as bars
// with the true class marked. every number is as served: the example's picture as written
// (api.exampleImage, once per run and example), else its column of the frame (example=i),
// θ_t's W[1], and the batch's Y; the page computes no network maths.
import {api} from "../api.js";
import {DIVERGING} from "../plot_theme.js";
import {paintMatrix} from "../tensor_image.js";
import {formatNumber} from "../tensors.js";

const SIDE = 8;  // digits are 8 × 8 pixels, feature k at row k / 8, column k % 8
const INK = [[0, "#ffffff"], [1, "#000000"]];  // grey levels: white paper to black ink
let view = null;  // {panel, example, templates, bars, caption}

const isDigits = (run) => run.config.dataset === "digits" && run.dims[0] === SIDE * SIDE;
const asImage = (values) => [...Array(SIDE).keys()].map((r) => values.slice(r * SIDE, (r + 1) * SIDE));
const finiteValues = (values) => values.filter(Number.isFinite);
const nullToNaN = (row) => row.map((v) => (v === null ? NaN : v));

function picture(values, position, scale, label, className) {
  const figure = document.createElement("figure"), canvas = document.createElement("canvas");
  const caption = document.createElement("figcaption");
  figure.className = className;
  paintMatrix(canvas, asImage(values), position, scale);
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  caption.textContent = label.split(":")[0];
  figure.append(canvas, caption);
  return figure;
}

// the example's X column (A[0]) as the network sees it: each pixel standardised over the
// training set, so 0 (white) is that pixel's mean, red more ink than it, blue less; the same
// colours as the templates, so a template's red on the example's red raises that unit's Z
function drawExample(frame) {
  const X = frame.example.A[0], s = Math.max(0, ...finiteValues(X).map(Math.abs));
  const position = (v) => (s > 0 ? (v / s + 1) / 2 : 0.5);
  const label = `example ${frame.example.index}: its 64 standardised pixels as served, ` +
    `blue −${formatNumber(s, 3)} (less ink than the pixel's mean), white 0, red +${formatNumber(s, 3)} (more ink)`;
  const key = document.createElement("p");
  key.className = "legend muted";
  key.textContent = `pixels standardised: white the pixel's mean, red more ink (+${formatNumber(s, 3)}), blue less`;
  view.example.replaceChildren(picture(X, position, DIVERGING, label, "digit-image"), key);
}

// the example as it was written (GET examples/i): whole grey levels, white paper to black
// ink, as a learner knows the digit; its pixels kept on the canvas (data-pixels, rows)
function drawWritten({index, image_shape: shape, pixels, levels: [lo, hi]}) {
  if (shape[0] !== SIDE || shape[1] !== SIDE) return;  // not a digit: keep drawing X
  const position = (v) => (hi > lo ? (v - lo) / (hi - lo) : 0);
  const label = `example ${index}: the digit as written, ${SIDE} × ${SIDE} pixels, ` +
    `grey levels from ${lo} (white paper) to ${hi} (black ink)`;
  const figure = picture(pixels.flat(), position, INK, label, "digit-image");
  figure.querySelector("canvas").dataset.pixels = pixels.map((row) => row.join(" ")).join(",");
  const key = document.createElement("p");
  key.className = "legend muted";
  key.textContent = `as written: white ${lo} (paper) to black ${hi} (ink); ` +
    "the network sees each pixel standardised over the training set";
  view.example.replaceChildren(figure, key);
}

// the example drawn: its picture is the same at every step. while the picture loads, or
// if it fails, the example's standardised X column stands in for it
let exampleKey = null;

function showExample(frame) {
  const {run, example} = frame, key = `${run.id}/${example.index}`;
  if (key === exampleKey) return;
  exampleKey = key;
  drawExample(frame);
  api.exampleImage(run.id, example.index)
    .then((answer) => { if (exampleKey === key) drawWritten(answer); })
    .catch(() => {});  // X stays drawn
}

// each row of W[1] as an 8 × 8 template on one diverging scale, 0 white, ±max |W[1]|
function drawTemplates(frame) {
  const W = frame.params[0].W;
  if (W.shape[1] !== SIDE * SIDE) {  // a block-averaged W has no pixels to show
    view.templates.textContent = `W[1] was sent reduced to ${W.shape[0]} × ${W.shape[1]}: no templates to draw.`;
    return;
  }
  const s = Math.max(0, ...W.data.flatMap((row) => finiteValues(nullToNaN(row)).map(Math.abs)));
  const position = (v) => (s > 0 ? (v / s + 1) / 2 : 0.5);
  view.templates.replaceChildren(...W.data.map((row, i) => picture(nullToNaN(row), position, DIVERGING,
    `unit ${i}: row ${i} of W[1] as an 8 × 8 template, blue −${formatNumber(s, 3)}, white 0, red +${formatNumber(s, 3)}`,
    "digit-template")));
  view.templates.setAttribute("aria-label", `The ${W.shape[0]} rows of W[1] at iteration ${frame.t}, one template per unit of layer 1`);
  view.scale.textContent = `W[1]: blue −${formatNumber(s, 3)}, white 0, red +${formatNumber(s, 3)} (one scale for every template)`;
}

// the index of the largest finite entry, or -1 (a one-hot label's class; the top output)
function largest(values) {
  let best = -1;
  values.forEach((v, k) => { if (Number.isFinite(v) && (best < 0 || v > values[best])) best = k; });
  return best;
}

function bar(k, a, name, truth, predicted) {
  const li = document.createElement("li"), width = Number.isFinite(a) ? Math.max(0, Math.min(1, a)) : 0;
  li.className = `digit-bar${k === truth ? " true-class" : ""}${k === predicted ? " predicted-class" : ""}`;
  li.dataset.class = name;
  const marks = [k === truth ? "✓ true" : "", k === predicted ? "predicted" : ""].filter(Boolean).join(" · ");
  li.innerHTML = `<span class="digit-class">${name}</span><span class="bar"><span style="width:${(100 * width).toFixed(1)}%"></span></span>` +
    `<span class="digit-value">${formatNumber(a, 3)}</span><span class="digit-mark">${marks}</span>`;
  return li;
}

// the example's served output column A[L] as bars; the true class from the batch's Y column
function drawOutput(frame) {
  const {run, example} = frame, A = example.A[run.L], names = run.classes;
  const Y = frame.batch.Y, truth = largest(Y.data.map((row) => (row[example.j] === null ? NaN : row[example.j])));
  const predicted = largest(A), activation = run.config.activations[run.L - 1];
  const list = document.createElement("ol");
  list.className = "digit-bars";
  list.setAttribute("aria-label", `Output A[${run.L}] (${activation}) of example ${example.index}, one bar per class`);
  list.replaceChildren(...A.map((a, k) => bar(k, a, names[k], truth, predicted)));
  const verdict = predicted < 0 ? "no class predicted: the output is not finite"
    : `predicted ${names[predicted]} (A = ${formatNumber(A[predicted], 3)}), true class ${names[truth]}: ${predicted === truth ? "right" : "wrong"}`;
  const heading = document.createElement("p");
  heading.className = "digit-verdict";
  heading.textContent = verdict;
  view.bars.replaceChildren(heading, list);
}

// the pictures drawn: a redraw of the same step and example (a phase change) keeps them
let drawnKey = null;

// what the pictures are of (step_renderer.js redraws them when one changes)
export const inputs = (frame) => [frame.t, frame.example.index];

export function update(frame) {
  view.panel.hidden = !isDigits(frame.run);
  const key = `${frame.run.id}/${frame.t}/${frame.example.index}`;
  if (view.panel.hidden || key === drawnKey) return null;
  drawnKey = key;
  view.caption.textContent = `Iteration ${frame.t}, example ${frame.example.index} (choose it beside the network): ` +
    "the image it is, the templates of W[1] that layer 1 matches it against, and what the network outputs.";
  showExample(frame);
  drawTemplates(frame);
  drawOutput(frame);
  return null;
}

function part(title, className) {
  const section = document.createElement("div"), heading = document.createElement("h3");
  section.className = className;
  heading.textContent = title;
  const body = document.createElement("div");
  section.append(heading, body);
  return {section, body};
}

export function render(element, frame) {
  const caption = document.createElement("p"), scale = document.createElement("p");
  caption.className = "caption";
  scale.className = "legend muted";
  const example = part("The example", "digit-part digit-example");
  const templates = part("W[1]: one template per unit", "digit-part digit-templates");
  const bars = part("Output", "digit-part digit-output");
  templates.body.className = "digit-template-grid";
  templates.body.setAttribute("role", "group");
  templates.section.append(scale);
  const row = document.createElement("div");
  row.className = "digit-row";
  row.append(example.section, templates.section, bars.section);
  element.replaceChildren(caption, row);
  view = {panel: element.closest("details"), caption, scale, example: example.body,
    templates: templates.body, bars: bars.body};
  drawnKey = exampleKey = null;  // new elements: draw everything into them
  return update(frame);
}
