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

// a layer whose difference is not finite gets no bar (a bar would invent a value), only a
// label on the axis
const finite = (r) => typeof r.relative_difference === "number" && Number.isFinite(r.relative_difference);

function draw(result) {
  // the layer's number under its bar, the axis titled "layer": "layer 3" slanted and cut
  // in a phone's narrow plot
  const names = result.layers.map((r) => (finite(r) ? `${r.l}` : `${r.l}<br>(not finite)`));
  const values = result.layers.map((r) => (finite(r) ? Math.max(r.relative_difference, 1e-18) : null));
  // green: under the threshold; grey: over it, but the check passed on the noise floor
  const colour = (r) => (finite(r) && r.relative_difference < result.threshold ? "#009E73"
    : withinNoise(result) ? "#999999" : "#D55E00");
  plot.hidden = false;
  describePlot(plot, `Relative difference between backprop's gradients and the numerical ones at iteration ` +
    `${result.step}, per layer, on a log scale against the threshold ${result.threshold}: ${coverage(result)} ` +
    `Verdict: ${verdict(result)}.`);
  const span = logRange([...values.filter((v) => v !== null), result.threshold]);
  return react(plot, [{type: "bar", x: names, y: values, marker: {color: result.layers.map(colour)},
  hovertemplate: "layer %{x}: %{y:.3g}<extra></extra>"}], baseLayout({
    margin: {l: 56, r: 10, t: 10, b: 44}, xaxis: {type: "category", title: {text: "layer", standoff: 4}, tickangle: 0},
    yaxis: {type: "log", title: {text: "relative difference"}, exponentformat: "power",
      range: span, dtick: Math.ceil((span[1] - span[0]) / 5)},
    shapes: [{type: "line", xref: "paper", x0: 0, x1: 1, y0: result.threshold, y1: result.threshold,
      line: {color: "#222", dash: "dash"}}],
    annotations: [{xref: "paper", x: 1, y: Math.log10(result.threshold), xanchor: "right", yanchor: "bottom",
      showarrow: false, text: `threshold ${result.threshold}`}],
  }));
}

// the verdict in words. `passed` has two reasons: a relative difference under the
// threshold, or a difference within the rounding noise of the numerical gradient, where
// gradients small against that noise make the relative difference say nothing; the
// sentence names the one that applied
const withinNoise = (r) => r.passed && !(r.relative_difference < r.threshold);

function verdict(result) {
  const diff = result.relative_difference, measured = `relative difference ${formatNumber(diff)}`;
  if (diff === null || diff === undefined) {
    return "no relative difference: a gradient at this step is not a finite number (NaN or ±∞), " +
      "so the check cannot say anything";
  }
  if (result.passed && diff < result.threshold) {
    return `${measured} < ${result.threshold}, so backprop agrees with the numerical gradient`;
  }
  if (withinNoise(result)) {
    return `${measured} ≥ ${result.threshold}, but the gradients are too small for a relative ` +
      `check at ε = ${result.epsilon}: the difference is within the rounding noise of the numerical gradient` +
      (typeof result.noise_floor === "number" ? ` (‖g − g_num‖ ≤ ${formatNumber(result.noise_floor, 2)})` : "") +
      ", so this is not a sign of a bug";
  }
  if (diff < result.threshold) return `${measured} < ${result.threshold}, but a gradient is not finite, so the check fails`;
  return `${measured} ≥ ${result.threshold}, so backprop and the numerical gradient disagree`;
}

// what was compared: every parameter, or a sample; and entries left out at ReLU kinks
function coverage(result) {
  const per = result.layers.map((r) => `layer ${r.l}: ${formatNumber(r.relative_difference)} (` +
    (r.checked < r.total ? `sampled ${r.checked} of ${r.total} parameters)` : `all ${r.total} parameters)`));
  const notes = [];
  if (result.sampled) notes.push("Big layers are checked on a random sample of their parameters.");
  const kinks = result.skipped_at_kinks;
  if (typeof kinks === "number" && kinks > 0) {
    notes.push(`${kinks} ${kinks === 1 ? "entry" : "entries"} skipped: their ±ε crossed a ReLU kink.`);
  }
  return [`${per.join("; ")}.`, ...notes].join(" ");
}

function describe(result) {
  return `Iteration ${result.step} (ε = ${result.epsilon}): ${verdict(result)}. ${coverage(result)}`;
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
    status.className = result.passed ? "gradcheck-status pass" : "gradcheck-status fail";
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
