// loss and accuracy: the cost J of every step, each step's accuracy on its batch, and
// train and test accuracy on the whole sets (R² for regression), and a marker at the
// current step. a full-batch run scores the whole sets at every step; a mini-batch run at
// every k-th step while training, and the server scores θ at evenly spread steps on demand
// (the run's scores, api.scores), a line through both. the caption gives the current
// step's own whole-set scores, served for it (frame.stepScores) when training did not score it.
// the series come from the summary, once per run.
import {react, baseLayout, stepMarker, seriesRange, describePlot, LAYER_COLOURS, r2BelowAxis} from "../plot_theme.js";
import {formatNumber} from "../tensors.js";
import {isPhone} from "../dom.js";
import {scoredPoints, trainedAt} from "../run_session.js";

let plot = null, caption = null, traces = null, tracesKey = null, ranges = null;
// per whole-set key (train_accuracy, ...), its scoredPoints: made with the traces, read by
// every caption
let scored = null;

const steps = (n) => [...Array(n).keys()];

// the summary's score series: [key, name in the legend and caption] of batch, train, test
function scoreSeries(summary, task) {
  const [suffix, label] = task === "regression" ? ["r2", "R²"] : ["accuracy", "accuracy"];
  const whole = (summary.evaluated_every || 1) > 1 ? " (whole set)" : "";
  return [[`batch_${suffix}`, `batch ${label}`], [`train_${suffix}`, `train ${label}${whole}`],
    [`test_${suffix}`, `test ${label}`]];
}

// the batch's own score, unless it is the train score at every step (a full batch)
function showsBatch(summary, task) {
  const [[batch], [train]] = scoreSeries(summary, task);
  return Array.isArray(summary[batch]) && summary[batch].some((v, t) => v !== summary[train][t]);
}

// whether a whole set has any score (points: its scoredPoints): a run without a test set
// has none
const hasScores = (points) => points.y.some((v) => v !== null);

// a score far below the axis (a diverging R² reaches −1e307) is drawn at OFF_PLOT, off the
// plot still, where Plotly can place it (its markers' transforms break on such numbers);
// the hover reads the score itself from customdata
const OFF_PLOT = -1e3;
const drawn = (y) => ({y: y.map((v) => (v === null || v >= OFF_PLOT ? v : OFF_PLOT)), customdata: y});

function buildTraces(summary, task) {
  const x = steps(summary.cost.length), every = summary.evaluated_every || 1;
  const [batch, ...sets] = scoreSeries(summary, task);
  const scores = sets.map(([key, name], k) => {
    // every step scored: a step whose score is not finite (divergence) is null, and the
    // line bridges it. some steps scored: a line through them, a dot each
    const points = every > 1 ? scored[key] : {x, y: summary[key] || []};
    return hasScores(scored[key]) && {type: "scatter", yaxis: "y2", name, x: points.x,
      ...drawn(points.y), mode: every > 1 ? "lines+markers" : "lines", connectgaps: every === 1,
      line: {color: LAYER_COLOURS[k], width: 2, dash: k ? "dash" : "solid"},
      marker: {color: LAYER_COLOURS[k], size: 5, symbol: k ? "diamond" : "circle"},
      hovertemplate: `step %{x}: ${name.split(" (")[0]} = %{customdata:.4g}<extra></extra>`};
  }).filter(Boolean);
  const own = showsBatch(summary, task) ? [{type: "scatter", mode: "lines", yaxis: "y2", x,
    ...drawn(summary[batch[0]]), name: batch[1], line: {color: LAYER_COLOURS[2], width: 1},
    opacity: 0.6, hovertemplate: `step %{x}: ${batch[1]} = %{customdata:.4g}<extra></extra>`}] : [];
  return [
    {type: "scatter", mode: "lines", name: "cost J", x, y: summary.cost,
      line: {color: "#222", width: 2}, hovertemplate: "step %{x}: J = %{y:.5g}<extra></extra>"},
    ...own, ...scores,
  ];
}

// the last score of a whole set measured at or before step t, and the step it was
// measured at: training's or the spread scores' (points: the set's scoredPoints)
function measuredAt({x, y}, t) {
  for (let k = x.length - 1; k >= 0; k--) if (x[k] <= t && y[k] !== null) return {value: y[k], step: x[k]};
  return null;
}

// score `key` of step t in served scores ({steps, [key]: values}), or undefined
function servedAt(scores, key, t) {
  const k = scores && scores[key] ? scores.steps.indexOf(t) : -1;
  return k < 0 ? undefined : scores[key][k];
}

// this step's own score on a whole set: the summary's, or served (the step's own scores,
// frame.stepScores, or the spread scores); a null served is a score that is not finite,
// unless the set has no score at all (a run without a test set). {value, step} or null
function exactAt(frame, key) {
  const {t, summary} = frame, series = summary[key] || [];
  if (series[t] !== null && series[t] !== undefined) return {value: series[t], step: t};
  // a step that training scored, whose score is null: not finite (a diverged θ)
  if (trainedAt(summary, t) && series.some((v) => v !== null)) return {value: null, step: t};
  for (const scores of [frame.stepScores, frame.spreadScores]) {
    const value = servedAt(scores, key, t);
    if (value === undefined) continue;
    return value !== null || series.some((v) => v !== null) ? {value, step: t} : null;
  }
  return null;
}

// "batch accuracy 0.91, train accuracy 0.87, test accuracy 0.84": this step's batch score
// and θ_t's on the whole sets; "(measured at iteration 38)" where this step's are not here
// (while playing, or a score the server did not give) and an earlier step's are shown
function metricsText(frame) {
  const {summary, t, run} = frame;
  const [[batchKey, batchName], ...sets] = scoreSeries(summary, run.task);
  const [train, test] = sets.map(([key]) => exactAt(frame, key) || measuredAt(scored[key], t));
  const value = (m) => (m ? (m.value === null ? "not finite" : formatNumber(m.value, 3)) : "—");
  const steps = [...new Set([train, test].filter(Boolean).map((m) => m.step))];
  const when = steps.some((s) => s !== t) ? `measured at iteration ${steps.join(" and ")}` : "";
  const names = sets.map(([, name]) => name.split(" (")[0]);
  // the batch is scored at every step: a null there is a score that is not finite
  const batch = showsBatch(summary, run.task) ? summary[batchKey][t] : undefined;
  const own = batch === undefined ? "" : `${batchName} ${value({value: batch})}, `;
  // a set with no score at all has no test set (a run that diverged at step 0 has none
  // finite, but a test fraction)
  const hasTest = run.config.test_fraction > 0 || hasScores(scored[sets[1][0]]);
  const testText = hasTest ? `${names[1]} ${value(test)}` : "no test set";
  return `${own}${names[0]} ${value(train)}, ${testText}${when ? ` (${when})` : ""}`;
}

function title(frame) {
  const {summary, t} = frame;
  const cost = Number.isFinite(summary.cost[t]) ? formatNumber(summary.cost[t]) : "not a finite number";
  return `iteration ${t}: J = ${cost}, ${metricsText(frame)}` +
    (ranges.note ? `. ${ranges.note}` : "");
}

const costText = (J) => (Number.isFinite(J) ? formatNumber(J, 3) : "not a finite number");

// the plot in words: the cost's course over the run, then this step's numbers
function gist(frame) {
  const cost = frame.summary.cost, last = cost.length - 1, [a, b] = [cost[0], cost[last]];
  const trend = !Number.isFinite(a) || !Number.isFinite(b) ? "then" : b < a ? "falling to" : b > a ? "rising to" : "staying at";
  return `Cost over ${last + 1} iterations: ${costText(a)} at iteration 0, ${trend} ${costText(b)} at ` +
    `iteration ${last}. Now ${title(frame)}`;
}

// a cost that grows by more than LOG_SPAN (a diverging run reaches 1e165) would press
// every other step flat against 0 on a linear axis: then the axis is logarithmic
const LOG_SPAN = 1e4;

function costAxis(cost) {
  const finite = cost.filter((v) => Number.isFinite(v) && v > 0);
  const low = Math.min(...finite), high = Math.max(...finite);
  if (!finite.length || high / low <= LOG_SPAN) return {type: "linear", range: seriesRange([cost], {zero: true})};
  return {type: "log", range: seriesRange([cost], {log: true}), exponentformat: "power",
    note: `The cost axis is logarithmic: J spans ${formatNumber(low, 2)} to ${formatNumber(high, 2)}`};
}

// accuracy's axis, 0 to 1.02, with its 0 level with the cost's where the cost's axis is
// linear (padded below 0): read against one another, the two zeros had stood 20 px apart
export function accuracyRange(costRange) {
  const [low, high] = costRange.range;
  if (costRange.type !== "linear" || !(low < 0 && high > 0)) return [0, 1.02];
  const zero = -low / (high - low);  // where the cost's 0 stands, from the foot
  return [-zero * 1.02 / (1 - zero), 1.02];
}

// R² is at most 1 and unbounded below; below -1 (worse than predicting the mean) the
// line leaves the plot rather than squash the part worth reading
// (spread: the run's spread scores, whose R² the lines pass through too, or null)
function r2Range(summary, spread) {
  const [low] = seriesRange([summary.batch_r2, summary.train_r2, summary.test_r2,
    ...(spread ? [spread.train_r2, spread.test_r2] : [])]);
  return [Math.max(-1, Math.min(0, low)), 1.02];
}

// R² below the axis (a diverging run's reaches −4e165): the line leaves the plot, and the
// caption says how low it went
function r2Note(summary, spread) {
  const low = r2BelowAxis(["batch_r2", "train_r2", "test_r2"].flatMap((key) => summary[key] || [])
    .concat(spread ? [...(spread.train_r2 || []), ...(spread.test_r2 || [])] : []));
  return low ? `R² below −1 (worse than predicting the mean) is off the plot: it falls to ${low}` : null;
}

// what the plot draws from (step_renderer.js redraws it when one changes)
export const inputs = (frame) => [frame.summary, frame.spreadScores, frame.stepScores, frame.t];

// the ring at the first or the last iteration is drawn whole: the x axis reaches its
// radius and line (8 px) beyond them, and a little more, at the plot's width now (margins
// l + r: 104 px, more where long tick labels widen them)
const RING = 10;
function ringRoom([first, last]) {
  const pad = RING * (last - first) / Math.max(100, plot.clientWidth - 104);
  return [first - pad, last + pad];
}

// the score axis's ticks, every dtick across its range; on a phone's narrow plot without
// the lowest where it stands at the axis's foot, in the corner where the last iteration's
// label does ("300⁰")
export function rightTicks([low, high], dtick, phone = isPhone()) {
  const ticks = [];
  for (let k = Math.ceil(low / dtick - 1e-9); k * dtick <= high + 1e-9; k++) ticks.push(Number((k * dtick).toFixed(6)));
  const atFoot = ticks.length && (ticks[0] - low) / (high - low) < 0.05;
  return phone && atFoot ? ticks.slice(1) : ticks;
}

export function update(frame) {
  const key = `${frame.run.id}:${Boolean(frame.spreadScores)}`;
  if (key !== tracesKey) {
    tracesKey = key;
    scored = Object.fromEntries(scoreSeries(frame.summary, frame.run.task).slice(1)
      .map(([set]) => [set, scoredPoints(frame.summary, frame.spreadScores, set)]));
    traces = buildTraces(frame.summary, frame.run.task);
    const regression = frame.run.task === "regression", s = frame.summary;
    const {note, ...y} = costAxis(s.cost);
    const notes = [note, regression ? r2Note(s, frame.spreadScores) : null].filter(Boolean);
    ranges = {x: [0, Math.max(1, s.cost.length - 1)], y, note: notes.join(". "),
      y2: regression ? r2Range(s, frame.spreadScores) : accuracyRange(y)};
  }
  caption.textContent = title(frame);
  describePlot(plot, gist(frame));
  const regression = frame.run.task === "regression", J = frame.summary.cost[frame.t];
  // the "you are here" dot is a shape: moving it needs no recalculation of the traces. a
  // cost that is not finite has no place on the axis: the caption says so instead
  const dot = {type: "circle", xref: "x", yref: "y", xsizemode: "pixel", ysizemode: "pixel",
    xanchor: frame.t, yanchor: Number.isFinite(J) ? J : 0, x0: -6, x1: 6, y0: -6, y1: 6,
    visible: Number.isFinite(J) && (ranges.y.type !== "log" || J > 0),
    // a ring on the cost line, unlike any score's dots (the test score's are orange)
    fillcolor: "#fff", line: {color: "#222", width: 3}};
  return react(plot, traces, baseLayout({
    margin: {l: 52, r: 52, t: 24, b: 40},
    xaxis: {title: {text: "iteration"}, range: ringRoom(ranges.x)},
    // a diverging cost reaches 1e89 and more: the margin grows to hold its tick labels
    yaxis: {title: {text: ranges.y.type === "log" ? "cost J (log)" : "cost J"}, ...ranges.y, automargin: true},
    yaxis2: {title: {text: regression ? "R²" : "accuracy"}, overlaying: "y", side: "right",
      range: ranges.y2, tickvals: rightTicks(ranges.y2, regression ? 0.5 : 0.2), showgrid: false, zeroline: false},
    // at the left: Plotly's mode bar takes the top right corner (shown while the mouse is over it)
    legend: {orientation: "h", y: 1.01, x: 0, xanchor: "left", yanchor: "bottom"},
    shapes: [stepMarker(frame.t), dot],
  }));
}

export function render(element, frame) {
  caption = document.createElement("p");
  caption.className = "caption";
  plot = document.createElement("div");
  plot.className = "plot";
  element.replaceChildren(caption, plot);
  return update(frame);
}
