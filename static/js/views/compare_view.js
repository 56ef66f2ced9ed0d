// two runs side by side (CONTRACT §5 compare-toggle, view-compare): the page's run (A) and
// a second run (B, ?compare=<run id>) at the same iteration, phase and layer, stepping
// together since this is one of the page's views: overlaid curves (compare_curves.js), one
// tensor of both runs and its difference, and a mistaken gradient against the true one
// (compare_tensors.js). connect() wires the toggle and the chooser; the state owns the id.
import {ApiError} from "../api.js";
import {openRunById, withScores} from "../run_session.js";
import {trainingText} from "../run_status.js";
import {runIdOf, createRunHistory} from "../compare_session.js";
import {runLabels} from "../compare_labels.js";
import {stepScores} from "../step_frame.js";
import {createCurves} from "./compare_curves.js";
import {createTensors, loadTensors} from "./compare_tensors.js";

const $ = (id) => document.getElementById(id);
const history = createRunHistory();
// open: the panel shows; id: run B's id; other: its {run, summary} once trained; frame: the
// last frame drawn; version: changes whenever what the view draws from changes
const view = {open: false, id: null, other: null, choice: "auto", frame: null, version: 0, token: 0, parts: null};

// error: a run B that did not open, said in the page's error colour, not muted
function setStatus(text, error = false) {
  view.parts.status.textContent = text;
  view.parts.status.classList.toggle("failed", error);
}

function messageOf(err, id) {
  if (err instanceof ApiError && err.status === 404) return `No run has the id “${id}”.`;
  if (err instanceof ApiError && err.status === 422) return `That link's settings are not valid: ${err.detail}`;
  return err instanceof ApiError ? err.detail : err.message;
}

function showPanel(open) {
  view.open = open;
  $("view-compare").hidden = !open;
  $("compare-toggle").setAttribute("aria-pressed", String(open));
}

// the frame drawn again by the view itself (run B arrived, the select changed)
function redraw() {
  view.version++;
  if (view.frame) draw(view.frame).catch((err) => setStatus(messageOf(err, view.id), true));
}

// run B follows the state's `compare`: opened (trained on demand), or dropped with its
// panel (a lesson without one opened, the browser went back); an empty panel opened by
// the toggle waits for a choice
async function follow(id, options) {
  const dropped = view.id && !id;
  view.id = id;
  view.other = null;
  redraw();
  if (dropped) showPanel(false);
  if (!id) return;
  showPanel(true);
  setStatus("Opening run B…");
  try {
    const other = await openRunById(options, id, (f, queue, retry) => setStatus(`Run B: ${trainingText(f, queue, retry)}`));
    if (view.id !== id) return;
    view.other = other;
    setStatus("");
    redraw();
  } catch (err) {
    if (view.id === id) setStatus(messageOf(err, id), true);
  }
}

// a run id from getId() becomes the state's `compare`
async function choose(store, getId) {
  setStatus("Finding that run…");
  let id = null;
  try {
    id = await getId();
  } catch (err) {
    setStatus(messageOf(err, id), true);
    return;
  }
  if (id === store.get().compare) setStatus(view.other ? "" : "Opening run B…");
  store.set({compare: id});
}

function build(options, store) {
  const curves = createCurves(), tensors = createTensors();
  const legend = document.createElement("p");
  legend.className = "compare-legend";
  legend.dataset.testid = "compare-legend";
  $("compare-body").replaceChildren(legend, curves.element, tensors.element);
  // the state holds both choices, so that a link shows them (connect follows it)
  tensors.select.addEventListener("change", () => store.set({compareTensor: tensors.select.value}));
  tensors.colours.addEventListener("change", () => store.set({compareColours: tensors.colours.value}));
  $("compare-choose").addEventListener("submit", (e) => {
    e.preventDefault();
    choose(store, () => runIdOf($("compare-source").value, options));
  });
  $("compare-previous").addEventListener("click", () => choose(store, () => history.previous()));
  return {curves, tensors, legend, status: $("compare-status")};
}

// wires the toggle, the chooser and the state's `compare` (?compare=<run id>)
export function connect(store, options) {
  view.parts = build(options, store);
  $("compare-toggle").addEventListener("click", () => {
    if (view.open) {
      showPanel(false);
      store.set({compare: null, compareTensor: "auto", compareColours: "shared"});
      return;
    }
    showPanel(true);
    $("compare-source").focus();
  });
  store.subscribe((s) => {
    showChoices(s);
    if (s.compare !== view.id) follow(s.compare, options);
  });
  showChoices(store.get());
  if (store.get().compare) follow(store.get().compare, options);
}

// the state's tensor and colours in the selects: a tensor the select lacks is "auto"
function showChoices({compareTensor, compareColours}) {
  const {select, setColours} = view.parts.tensors;
  const choice = [...select.options].some((o) => o.value === compareTensor) ? compareTensor : "auto";
  setColours(compareColours);
  if (choice === view.choice) return;
  view.choice = choice;
  select.value = choice;
  redraw();
}

// the two runs as the curves and tensors read them; labels: how their configs differ.
// a mini-batch run's train and test scores: training's and the spread steps' (api.scores),
// and the paused step's own (run A's: the loss view's; run B's: scoresB)
function sides(frame, other, scoresB) {
  const [a, b] = runLabels(frame.run.config, other.run.config);
  const summaryA = withScores(withScores(frame.summary, frame.spreadScores), frame.stepScores);
  const summaryB = withScores(withScores(other.summary, other.scores), scoresB);
  return [{name: "A", label: a, run: frame.run, summary: summaryA},
    {name: "B", label: b, run: other.run, summary: summaryB}];
}

function showLegend(runs) {
  const items = runs.map((r, k) => {
    const item = document.createElement("span");
    item.className = `compare-key compare-key-${k ? "b" : "a"}`;
    item.textContent = `run ${r.name}${k ? "" : " (this page's)"}: ${r.label}, ${r.run.num_steps} iterations` +
      (r.run.diverged ? `, diverged at ${r.run.diverged.step}` : "");
    item.title = `run id ${r.run.id}`;
    return item;
  });
  view.parts.legend.replaceChildren(...items);
}

async function draw(frame) {
  view.frame = frame;
  history.saw(frame.run.id);
  $("compare-previous").disabled = !history.previous();
  const body = $("compare-body"), token = ++view.token, other = view.other;
  if (!view.open || !other) {
    body.hidden = true;
    return;
  }
  // the tensors, and run B's score at a paused step that has none (replayed), at once
  const [data, scoresB] = await Promise.all([
    loadTensors(sides(frame, other, null), {t: frame.t, layer: frame.layer, phase: frame.phase}, view.choice),
    stepScores(other, frame.t, frame.playing)]);
  if (token !== view.token) return;  // a newer frame, or another run B, draws instead
  const runs = sides(frame, other, scoresB);
  body.hidden = false;
  showLegend(runs);
  view.parts.tensors.show(data);
  await view.parts.curves.update(runs, frame.t);
}

// what the view draws from (step_renderer.js redraws it when one changes)
export const inputs = (frame) => [frame.summary, frame.spreadScores, frame.stepScores, frame.t, frame.layer, frame.phase.kind, view.version];

export const update = (frame) => draw(frame);

export function render(element, frame) {
  return update(frame);
}
