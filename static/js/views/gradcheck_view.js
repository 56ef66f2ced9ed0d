// gradient check: per layer, the relative difference between backprop's dW, db and a
// finite-difference estimate at the current step, against the course's threshold.
// it costs the server a second or so, so it runs on demand or once the step rests,
// never inside the play loop.
import {api} from "../api.js";
import {react, baseLayout, describePlot} from "../plot_theme.js";
import {formatNumber} from "../tensors.js";

const SETTLE_MS = 700;  // the step must rest this long before an automatic check
let plot = null, status = null, button = null, timer = null, controller = null, last = null;
let shown = null, shownStep = null;  // "runId:t" and t of the result on screen

// whole decades around the values, so bars of 1e-9 and a threshold of 1e-7 both show
function logRange(values) {
  const logs = values.map(Math.log10);
  return [Math.floor(Math.min(...logs)) - 1, Math.ceil(Math.max(...logs)) + 1];
}

const number = Number.isFinite;  // false for null and anything not a number
// entries of a layer that the relative difference compared: the checked ones but those
// skipped at a kink (an answer without the per-layer count skipped none that we know of)
const compared = (r) => r.checked - (r.skipped_at_kinks ?? 0);
// a layer's state: "kinks" (nothing compared), "exact" (g and g_num equal to the last bit,
// a relative difference of 0 that a log axis has no place for), "bar", or "not-finite"
function layerState(r) {
  if (compared(r) === 0) return "kinks";
  if (!number(r.relative_difference)) return "not-finite";
  return r.relative_difference === 0 ? "exact" : "bar";
}

// why a layer's column has no bar: neither a missing value nor an exact 0 (a log axis has
// no place for it) is drawn as an invented tiny one
const NOTES = {kinks: "all at ReLU kinks", exact: "exactly equal", "not-finite": "not finite"};
const note = (r) => (layerState(r) === "not-finite" && r.non_finite === "cost" ? "cost not finite"
  : NOTES[layerState(r)]);

// the bars' categories and heights (null: no bar), and the words of the columns without one
export function barValues(result) {
  const names = result.layers.map((r) => `${r.l}`);
  const values = result.layers.map((r) => (layerState(r) === "bar" ? r.relative_difference : null));
  // x: the column's index, which is where a category axis puts a number
  const notes = result.layers.map((r, x) => ({x, text: note(r), exact: layerState(r) === "exact"}))
    .filter((n) => n.text !== undefined);
  return {names, values, notes};
}

// a column's note runs up the column, so that it fits a phone's narrow one; an exact
// agreement also gets an "=" at its foot. paper units: they mark no value on the log axis
function noteMarks(notes) {
  return notes.flatMap(({x, text, exact}) => {
    const color = exact ? "#009E73" : "#555";
    const words = {x, xref: "x", yref: "paper", y: exact ? 0.2 : 0.05, yanchor: "bottom", textangle: -90,
      showarrow: false, bgcolor: "#fff", text, font: {color}};
    return exact ? [words, {x, xref: "x", yref: "paper", y: 0, yanchor: "bottom", showarrow: false,
      text: "=", font: {size: 22, color}}] : [words];
  });
}

// green: under the threshold; grey: over it, but within the rounding noise (the layer's
// own, or the check passed on the noise floor); orange: a disagreement
export function barColours(result) {
  return result.layers.map((r) => (number(r.relative_difference) && r.relative_difference < result.threshold
    ? "#009E73" : r.within_noise || withinNoise(result) ? "#999999" : "#D55E00"));
}

function draw(result) {
  // the layer's number under its bar, the axis titled "layer": "layer 3" slanted and cut
  // in a phone's narrow plot
  const {names, values, notes} = barValues(result);
  plot.hidden = false;
  describePlot(plot, `Relative difference between backprop's gradients and the numerical ones at iteration ` +
    `${result.step}, per layer, on a log scale against the threshold ${result.threshold}: ${coverage(result)} ` +
    `Verdict: ${verdict(result)}.`);
  const span = logRange([...values.filter((v) => v !== null), result.threshold]);
  return react(plot, [{type: "bar", x: names, y: values, marker: {color: barColours(result)},
  hovertemplate: "layer %{x}: %{y:.3g}<extra></extra>"}], baseLayout({
    margin: {l: 56, r: 10, t: 10, b: 44}, xaxis: {type: "category", tickangle: 0,
      // the threshold named under the axis: a label at its line was run into by the
      // words that stand up a column without a bar
      title: {text: `layer  ·  dashed: threshold ${result.threshold}`, standoff: 4}},
    yaxis: {type: "log", title: {text: "relative difference"}, exponentformat: "power",
      range: span, dtick: Math.ceil((span[1] - span[0]) / 5)},
    shapes: [{type: "line", xref: "paper", x0: 0, x1: 1, y0: result.threshold, y1: result.threshold,
      line: {color: "#222", dash: "dash"}}],
    annotations: noteMarks(notes),
  }));
}

// the verdict in words. `passed` has two reasons: a relative difference under the
// threshold, or a difference within the rounding noise of the numerical gradient, where
// gradients small against that noise make the relative difference say nothing; the
// sentence names the one that applied
const withinNoise = (r) => r.passed && !(r.relative_difference < r.threshold);

// the largest ‖g‖ of backprop's gradients over the layers (NaN where none is a number)
function largestNorm(r) {
  const norms = r.layers.map((e) => e.analytic_norm).filter(number);
  return norms.length ? Math.max(...norms) : NaN;
}

// a pass on the noise floor where backprop's gradients are no larger than that noise (a
// cost of 1e59, whose J(θ ± ε) cannot tell θ + ε from θ − ε): the numerical gradient
// cannot tell them from 0, so the check cannot tell right from wrong, and is neither a
// pass nor a fail
export const swamped = (r) => withinNoise(r) && number(r.noise_floor) && largestNorm(r) <= r.noise_floor;

// why there is no relative difference, from the engine's non_finite
const NOT_FINITE = {
  analytic: "a gradient at this step is not a finite number (NaN or ±∞), so the check cannot say anything",
  numerical: "the cost J(θ ± ε) is finite, but the numerical gradient (J(θ+ε) − J(θ−ε)) / 2ε " +
    "overflows, so there is nothing to compare backprop's gradients with",
  norm: "the gradients are finite numbers, but their norms overflow, so the check cannot say anything",
};

// the largest ‖g‖ of backprop's gradients in the layers, and its layer
function largestGradient(result) {
  const norms = result.layers.filter((r) => number(r.analytic_norm));
  if (!norms.length) return "";
  const top = norms.reduce((a, b) => (b.analytic_norm > a.analytic_norm ? b : a));
  return ` (the largest, layer ${top.l}'s, has ‖g‖ = ${formatNumber(top.analytic_norm)})`;
}

function notFinite(result) {
  if (result.non_finite === "cost") {
    return "the cost J(θ ± ε) is not a finite number (it overflows), so the numerical gradient " +
      "(J(θ+ε) − J(θ−ε)) / 2ε cannot be computed at this step. Backprop's gradients here are finite " +
      `numbers${largestGradient(result)}, but without a numerical gradient the check cannot say whether they are right`;
  }
  return NOT_FINITE[result.non_finite] ?? NOT_FINITE.analytic;
}

function verdict(result) {
  const diff = result.relative_difference, measured = `relative difference ${formatNumber(diff)}`;
  if (diff === null || diff === undefined) {
    if (!result.non_finite && result.layers.every((r) => compared(r) === 0)) {
      return "no relative difference: every checked entry's ±ε crossed a ReLU kink, so nothing was compared";
    }
    return `no relative difference: ${notFinite(result)}`;
  }
  if (result.passed && diff < result.threshold) {
    return `${measured} < ${result.threshold}, so backprop agrees with the numerical gradient${noisyLayers(result)}` +
      smallLayers(result);
  }
  if (withinNoise(result)) {
    // the noise (the costs' rounding, over ε) swamps gradients that are tiny, or a cost
    // that is huge (an exploding run): the words say which side, from the numbers, never
    // "too small" alone
    const noise = number(result.noise_floor) ? result.noise_floor : null;
    const within = `${measured} ≥ ${result.threshold}, but the difference is within the rounding noise of the ` +
      `numerical gradient at ε = ${result.epsilon}` +
      (noise !== null ? ` (‖g − g_num‖ ≤ ${formatNumber(noise, 2)}, a noise that grows with the cost and the numbers it is computed from)` : "");
    if (!swamped(result)) return `${within}, so this is not a sign of a bug`;
    const top = largestNorm(result);
    return `${within}; backprop's gradients (${top > 0 ? `‖g‖ up to ${formatNumber(top, 2)}` : "all 0"}) are ` +
      "no larger than that noise, so the numerical gradient cannot tell them from 0: the check cannot tell right from wrong here";
  }
  if (diff < result.threshold) return `${measured} < ${result.threshold}, but a gradient is not finite, so the check fails`;
  return `${measured} ≥ ${result.threshold}, so backprop and the numerical gradient disagree`;
}

// "layer 1", "layers 1 and 2", "layers 1, 2 and 3"
function layerList(layers) {
  const ls = layers.map((r) => r.l);
  if (ls.length === 1) return `layer ${ls[0]}`;
  return `layers ${ls.slice(0, -1).join(", ")} and ${ls[ls.length - 1]}`;
}

// after an agreement: the layers above the threshold whose differences are rounding noise
// (their bars are grey), so that the bars above the dashed line do not contradict it
// the layers whose relative difference is at or above the threshold, and whose own
// within_noise is `noise`
const aboveThreshold = (result, noise) => result.layers.filter((r) => number(r.relative_difference) &&
  r.relative_difference >= result.threshold && r.within_noise === noise);

function noisyLayers(result) {
  const noisy = aboveThreshold(result, true);
  if (!noisy.length) return "";
  const one = noisy.length === 1;
  return `; ${layerList(noisy)} ${one ? "is" : "are"} above the threshold only by rounding noise: ${one ? "its" : "their"} ` +
    "gradients are so small that the numerical gradient cannot measure them more closely";
}

// after an agreement: the layers above the threshold beyond the check's estimate of their
// noise (orange bars). the overall figure weighs each layer by its gradients' size, so a
// layer of small gradients says little in it; its own figure may be rounding that the
// estimate misses, or a mistake: the words give the numbers, not a verdict
function smallLayers(result) {
  const off = aboveThreshold(result, false);
  if (!off.length) return "";
  const one = off.length === 1;
  return `; but ${layerList(off)} ${one ? "is" : "are"} above the threshold on ${one ? "its" : "their"} own ` +
    `(${off.map((r) => `${formatNumber(r.relative_difference, 2)} with ‖g‖ = ${formatNumber(r.analytic_norm, 2)}`).join(", ")}), ` +
    "beyond the check's estimate of the rounding noise: gradients this small weigh little in the overall figure, " +
    "so look at this layer's numbers yourself";
}

// a layer's relative difference in words: a number, "exactly equal", or why there is none
function layerValue(r) {
  const state = layerState(r);
  if (state === "exact") return r.analytic_norm === 0 ? "exactly equal (both gradients 0)" : "exactly equal";
  if (state === "not-finite" && r.non_finite === "cost") return "no numerical gradient, J(θ ± ε) is not finite";
  return formatNumber(r.relative_difference);
}

// which of a layer's parameters the value covers: all, a sample, and those left out at a kink
function layerScope(r) {
  const of = r.checked < r.total ? `${r.checked} sampled of ${r.total}` : `${r.total}`;
  const skipped = r.skipped_at_kinks ?? 0;
  if (compared(r) === 0) return `nothing compared: ±ε crossed a ReLU kink at all ${of} parameters`;
  if (skipped) return `compared ${compared(r)} of ${of} parameters; ${skipped} skipped at a ReLU kink`;
  return r.checked < r.total ? `sampled ${r.checked} of ${r.total} parameters` : `all ${r.total} parameters`;
}

// what was compared: every parameter, or a sample; and entries left out at ReLU kinks
function coverage(result) {
  const per = result.layers.map((r) => `layer ${r.l}: ` +
    (compared(r) === 0 ? layerScope(r) : `${layerValue(r)} (${layerScope(r)})`));
  const notes = [];
  if (result.sampled) notes.push("Big layers are checked on a random sample of their parameters.");
  const kinks = result.skipped_at_kinks;
  if (typeof kinks === "number" && kinks > 0) {
    notes.push(`${kinks} ${kinks === 1 ? "entry" : "entries"} skipped: their ±ε crossed a ReLU kink, ` +
      "where a centred difference measures neither one-sided slope.");
  }
  return [`${per.join("; ")}.`, ...notes].join(" ");
}

export function describe(result) {
  return `Iteration ${result.step} (ε = ${result.epsilon}): ${verdict(result)}. ${coverage(result)}`;
}

// the status's colour: pass, fail, or neither where the check could not say
export function statusClass(result) {
  if (swamped(result)) return "gradcheck-status";
  if (result.passed) return "gradcheck-status pass";
  return result.relative_difference === null || result.relative_difference === undefined
    ? "gradcheck-status" : "gradcheck-status fail";
}

async function check(frame) {
  if (controller) controller.abort();
  controller = new AbortController();
  const key = `${frame.run.id}:${frame.t}`;
  status.textContent = `Checking iteration ${frame.t}…`;
  try {
    const result = await api.gradcheck(frame.run.id, frame.t, controller.signal);
    shown = key;
    shownStep = frame.t;
    status.textContent = describe(result);
    status.className = statusClass(result);
    await draw(result);
  } catch (err) {
    if (err.name !== "AbortError") status.textContent = `The gradient check failed: ${err.message}`;
  }
}

// the step checked, and whether it rests (step_renderer.js calls update when one changes)
export const inputs = (frame) => [frame.t, frame.playing];

export function update(frame) {
  last = frame;
  clearTimeout(timer);
  const key = `${frame.run.id}:${frame.t}`;
  button.textContent = `Check iteration ${frame.t} now`;
  if (shown === key || frame.playing) return null;
  if (shown) status.textContent = `Showing iteration ${shownStep}; stay on iteration ${frame.t} to check it.`;
  timer = setTimeout(() => check(frame), SETTLE_MS);
  return null;
}

export function render(element, frame) {
  status = document.createElement("p");
  status.className = "gradcheck-status";
  button = document.createElement("button");
  button.type = "button";
  button.addEventListener("click", () => last && check(last));
  plot = document.createElement("div");
  plot.className = "plot plot-small";
  plot.hidden = true;  // until the first check answers
  const words = document.createElement("div");
  words.append(status, button);
  element.classList.add("gradcheck-body");
  element.replaceChildren(words, plot);
  return update(frame);
}
