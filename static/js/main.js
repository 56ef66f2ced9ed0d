// boots the page: options -> state from the URL -> run -> views; then keeps the views in
// step with the state. each piece lives in its own module; this one only connects them.
import {api, ApiError} from "./api.js";
import {readUrl, createStore, configOverrides} from "./state.js";
import {createHistory} from "./history.js";
import {openSession} from "./run_session.js";
import {createRunForm, formLabel} from "./run_form.js";
import {createControls} from "./controls.js";
import {createRenderer} from "./step_renderer.js";
import {createPlayer} from "./player.js";
import {createPhasePlayer} from "./phase_player.js";
import {prefetchFrame} from "./step_frame.js";
import {phaseList, phaseKey, phaseIndex} from "./phases.js";
import {setBigFonts} from "./plot_theme.js";
import * as networkView from "./views/network_view.js";
import * as cacheView from "./views/cache_view.js";
import * as formulaView from "./views/formula_view.js";
import * as lossView from "./views/loss_view.js";
import * as modelView from "./views/model_view.js";
import * as gradientFlowView from "./views/gradient_flow_view.js";
import * as distributionsView from "./views/distributions_view.js";
import * as codeView from "./views/code_view.js";
import * as cacheExplainerView from "./views/cache_explainer_view.js";
import * as gradcheckView from "./views/gradcheck_view.js";
import * as phaseView from "./views/phase_view.js";
import * as unitsView from "./views/units_view.js";
import * as digitsView from "./views/digits_view.js";
import * as quizView from "./views/quiz_view.js";
import * as compareView from "./views/compare_view.js";
import {showAlert, hideAlert, markAlertCut, describeRun, describeDivergence, trainingText, secondsLeft,
  bannerText} from "./run_status.js";
import {updateDownloads} from "./downloads.js";
import {connectLessons} from "./lessons.js";
import {fitPresenter} from "./presenter_fit.js";

const $ = (id) => document.getElementById(id);
// [module, element id, {extra: a render argument, marker: only moves a step marker, later:
// not what a phase changes, drawn after the views that are (step_renderer.js)}]
const VIEWS = [
  [networkView, "view-network"], [cacheView, "view-cache", {extra: (cell, at) => formulaView.explain(cell, at)}],
  [formulaView, "cell-formula"], [lossView, "view-loss", {marker: true, later: true}],
  [modelView, "view-boundary", {later: true}], [gradientFlowView, "view-gradient-flow", {marker: true, later: true}],
  [distributionsView, "view-distributions", {marker: true, later: true}], [codeView, "view-code"],
  [cacheExplainerView, "cache-explainer"], [gradcheckView, "gradcheck", {later: true}], [phaseView, "phase-io"],
  [unitsView, "view-units", {later: true}], [digitsView, "view-digits", {later: true}], [quizView, "quiz-card"],
  [compareView, "compare-body", {later: true}],
].map(([module, id, how = {}]) => ({module, element: $(id), ...how}));

const FIRST_VIEW = {iteration: 0, phase: "forward-1", layer: 1};
const LEAVE_LESSON = {lesson: null, tour: 0, compare: null, compareTensor: "auto", compareColours: "shared"};

// "steps: input should be ..." names the API's field; the form calls it "iterations". a
// list's entry is counted from 0 by the API ("hidden_layers.1"): the form's words count
// from 1 ("its 2nd value")
const ORDINALS = ["1st", "2nd", "3rd"];

// {field, index} that a refusal (422) names first ("hidden_layers.1: …"; null for what it
// does not name), or null for an error that is no refusal
function refusedField(err) {
  if (!(err instanceof ApiError && err.status === 422)) return null;
  const [, field = null, index] = err.detail.match(/^([a-z_0-9]+)(?:\.(\d+))?/) || [];
  return {field, index: index === undefined ? null : Number(index)};
}

function errorText(err) {
  const refused = refusedField(err);
  if (refused) {
    const label = formLabel(refused.field), k = refused.index === null ? null : refused.index + 1;
    const which = k === null ? "" : `, its ${ORDINALS[k - 1] || `${k}th`} value`;
    return `This run's settings are not valid. ${err.detail}${label ? ` (the form's “${label}”${which})` : ""}`;
  }
  return err instanceof ApiError ? err.detail : `Something went wrong: ${err.message}`;
}

// the form's field that a refusal names says so (aria-invalid, outlined) until a run opens
function markInvalid(err) {
  document.querySelectorAll("#run-form [aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  const refused = refusedField(err);
  const field = refused && refused.field && document.getElementById(`field-${refused.field}`);
  if (field) field.setAttribute("aria-invalid", "true");
}

// a ?run=<id> link (read when the page opens) that did not open: the default run shows
function runIdText(err, id) {
  const shown = id.length > 40 ? `${id.slice(0, 40)}…` : id, instead = "Showing the default run instead.";
  if (err instanceof ApiError && err.status === 404) {
    return `No run has the id “${shown}”: the link may be cut short or mistyped. ${instead}`;
  }
  return `${errorText(err)} ${instead}`;
}

// the page's moving parts. session: the run on screen; loadedKey: its config as JSON;
// pendingKey: the config being trained, progress: its load's reporter; startView: {key,
// view}, the view that config's run opens at (showConfig)
function createPage(options) {
  const page = {options, session: null, loadedKey: null, pendingKey: null, progress: null,
    startView: null};
  const store = createStore(readUrl(window.location.search, options), options);
  page.store = store;
  // Back and Forward: the entry's run, at its view, with its lesson and its second run
  page.history = createHistory(store, options, ({config, runId, ...view}) =>
    showConfig(page, {config, runId, keepAlert: false}, view));
  // a view that cannot draw says so, after the divergence when there is one: the alert
  // must keep naming the step, layer and tensor that went non-finite
  page.renderer = createRenderer(VIEWS, (err) => {
    const run = page.session && page.session.run;
    showAlert(run && run.diverged ? `${describeDivergence(run)} (${errorText(err)})` : errorText(err));
  });
  // the iteration player and the phase player: pressing one stops the other
  page.controls = createControls(store, {
    togglePlay: () => { page.phasePlayer.stop(); page.player.toggle(); },
    togglePhasePlay: () => { if (page.player.playing) page.player.stop(); page.phasePlayer.toggle(); }});
  page.player = createPlayer({store, renderer: page.renderer,
    lastStep: () => (page.session ? page.session.run.num_steps - 1 : -1),  // -1: no run yet
    prefetch: (t) => page.session && prefetchFrame(page.session.run, t, store.get().layer),
    onChange: (on) => { page.controls.setPlaying(on); if (!on) redraw(page); }});
  page.phasePlayer = createPhasePlayer({store, renderer: page.renderer,
    limits: () => (page.session ? {L: page.session.run.L, steps: page.session.run.num_steps} : null),
    prefetch: (t, layer) => page.session && prefetchFrame(page.session.run, t, layer),
    onChange: (on) => { page.controls.setPhasePlaying(on); redraw(page); }});
  // predict, then reveal: a question holds the phase's result back, and phase play with it
  quizView.connect(store, {nextPhase: () => $("phase-next").click(), onReveal: () => replayPhase(page)});
  page.phasePlayer.hold(quizView.hold);
  // a second run (?compare=<id>) steps with this one: its view draws from each frame
  compareView.connect(store, options);
  // a new run starts at its first view; another run than the one on screen, or the default
  // run, leaves an open lesson, whose words and second run are about its own
  const leaving = (config) => (store.get().lesson && !sameConfig(config, page.loadedKey) ? LEAVE_LESSON : {});
  page.fillForm = createRunForm($("run-form"), options, (submitted) => {
    // the run on screen already (its fields perhaps in another order): that run, as it is
    const config = sameConfig(submitted, page.loadedKey) ? JSON.parse(page.loadedKey) : submitted;
    page.submittedKey = JSON.stringify(config);
    showConfig(page, {config, runId: null}, {...FIRST_VIEW, ...leaving(config)});
    if (page.submittedKey === page.loadedKey) closeForm(page);
  });
  $("run-reset").addEventListener("click", () => showConfig(page, {config: {}, runId: null},
    {...FIRST_VIEW, ...leaving(null)}));
  page.fitPresenter = fitPresenter(document.querySelector(".panel-cache"));
  window.addEventListener("resize", markAlertCut);  // a cut alert line says so (run_status.js)
  return page;
}

// a config (patch.config) shown at a view: at once if its run is on screen; else the run on
// screen keeps its view until the new one opens (and keeps it if the config is refused)
function showConfig(page, patch, view) {
  const key = JSON.stringify(patch.config);
  if (key === page.loadedKey && !patch.runId) {
    page.store.set({...patch, ...view});
    return;
  }
  page.startView = {key, view};
  page.store.set(patch);
}

// every view for the current state; paused, the next move is most likely one step either
// way, so both are fetched once this one is drawn
function redraw(page) {
  const s = page.store.get(), presenter = s.layout === "presenter";
  // the presenter layout is large text too: the figures' fonts and heatmaps grow with it
  document.documentElement.classList.toggle("big", s.big || presenter);
  // (a layout change, not every redraw: measuring the alert forces a layout)
  if (document.documentElement.classList.contains("presenter") !== presenter) {
    document.documentElement.classList.toggle("presenter", presenter);
    markAlertCut();
  }
  setBigFonts(s.big || presenter);
  page.controls.sync(s);
  updateDownloads($("downloads"), page.session && page.session.run, s);
  const drawn = page.renderer.draw({...s, playing: page.player.playing, motion: page.phasePlayer.motion()});
  drawn.then(() => page.fitPresenter());  // before the frame paints: no flash of unfitted heatmaps
  // (the players fetch ahead themselves)
  if (!page.player.playing && !page.phasePlayer.playing) drawn.then(() => prefetchNeighbours(page));
  // figures drawn while the presenter layout hid them have no size: once they show, the
  // window's resize event makes Plotly measure them again (PLOT_CONFIG.responsive)
  if (page.layoutShown !== undefined && page.layoutShown !== s.layout) {
    drawn.then(() => window.dispatchEvent(new Event("resize")));
  }
  page.layoutShown = s.layout;
  return drawn;
}

// a quiz's reveal while the phases play: the diagram plays the phase that was hidden again
function replayPhase(page) {
  const motion = page.phasePlayer.motion();
  if (!motion) return;
  page.renderer.draw({...page.store.get(), playing: page.player.playing, motion: {...motion, replay: true}});
}

function prefetchNeighbours(page) {
  if (!page.session || page.player.playing) return;
  const s = page.store.get();
  // a state set for a run still on its way (a lesson opened as the first frame is drawn)
  // may name a layer this run does not have: its neighbours are the new run's to fetch
  if (page.pendingKey || s.layer > page.session.run.L) return;
  prefetchFrame(page.session.run, s.iteration + 1, s.layer);
  prefetchFrame(page.session.run, s.iteration - 1, s.layer);
}

// trains (or finds) the run of the state's config; a bad config leaves the last good run
async function loadRun(page, {keepAlert = false} = {}) {
  page.player.stop();
  page.phasePlayer.stop();
  if (!keepAlert) hideAlert();
  const s = page.store.get(), key = JSON.stringify(s.config);
  const wanted = () => page.pendingKey === key;
  page.pendingKey = key;
  page.progress = progressReporter(Boolean(page.session), wanted);
  // the history entry keeps the URL of the run it shows (at the view shown) until this
  // one opens
  page.store.urlShows(page.session ? shownRun(page) : null);
  let opened;
  try {
    opened = await openSession(page.options, {config: s.config, runId: s.runId}, {
      onProgress: page.progress, wanted,
      onHistograms: (session) => { if (session === page.session) redraw(page); },
      // the form shows the run that trains, not the page's defaults, while it trains: a
      // Train pressed meanwhile had sent those and dropped the run a link named
      onCreated: (info) => page.fillForm(info.config)});
  } catch (err) {
    // a load that another config (a later submit, Back) replaced meanwhile is dropped
    if (!wanted()) return;
    endLoad(page);
    // a refused link's config says which run shows instead, as a refused run id does
    const instead = page.session ? "The run on screen stays." : "Showing the default run instead.";
    showAlert(s.runId ? runIdText(err, s.runId) : `${errorText(err)} ${instead}`, "error", {reveal: true});
    markInvalid(err);
    // keep showing the last good run (or the default one) under the alert, at its view; a
    // run id that failed (a link cut short) has the default config, but is not it
    const good = page.session ? JSON.parse(page.loadedKey) : {};
    // (the alert outlives only the load of that good run: one already on screen has none)
    if (s.runId || JSON.stringify(good) !== JSON.stringify(s.config)) {
      page.store.set({config: good, runId: null, keepAlert: JSON.stringify(good) !== page.loadedKey});
    }
    return;
  }
  if (!wanted()) return;
  const start = page.startView && page.startView.key === key ? page.startView.view : {};
  page.session = opened;
  endLoad(page);
  markInvalid(null);
  if (page.submittedKey === key) closeForm(page);
  else page.submittedKey = null;  // another run opened first (a lesson, Back): not the form's
  adoptRun(page, opened, {...page.store.get(), ...start});
}

// whether a config is the one a key holds (page.loadedKey), whatever its fields' order: the
// form writes them in its own, a lesson in its JSON's
function sameConfig(config, key) {
  if (!config || !key) return false;
  const sorted = (c) => JSON.stringify(Object.keys(c).sort().map((k) => [k, c[k]]));
  return sorted(config) === sorted(JSON.parse(key));
}

// the form folds away once the run it submitted opens, so that the run shows where the
// form stood (a refusal leaves it open, its field outlined); focus in it goes to its summary
function closeForm(page) {
  page.submittedKey = null;
  const details = $("configure");
  const focused = details.contains(document.activeElement);
  details.open = false;
  if (focused) details.querySelector("summary").focus();
}

// the run on screen, over a state whose config is still loading
const shownRun = (page) => ({config: JSON.parse(page.loadedKey), runId: null});

// the load pending is over (opened, refused or dropped): no progress, no view waiting for
// it, and the URL shows the state again
function endLoad(page) {
  page.progress(1);
  page.pendingKey = null;
  page.startView = null;
  page.store.urlShows(null);
}

// back to the run on screen while another loads (Back, or its config submitted again):
// that load is no longer wanted (it stops asking for its run), and the form and header
// show the run on screen again
function dropLoad(page) {
  endLoad(page);
  page.fillForm(page.session.run.config);
  setSummary(describeRun(page.session.run));
}

// a trained run on screen: controls, form and header follow it; the view state is clamped
function adoptRun(page, opened, s) {
  const {run} = opened;
  page.renderer.setSession(opened);
  page.controls.setRun(run);
  page.fillForm(run.config);
  setSummary(describeRun(run));
  if (run.diverged) showAlert(describeDivergence(run));
  const phases = phaseList(run.L);
  const config = s.runId ? configOverrides(run.config, page.options) : s.config;
  page.loadedKey = JSON.stringify(config);
  const {example, lesson, tour, compare} = s;  // (the view it was asked for at: showConfig)
  page.store.set({config, runId: null, keepAlert: false, iteration: Math.min(s.iteration, run.num_steps - 1),
    layer: Math.min(Math.max(1, s.layer), run.L), phase: phaseKey(phases[phaseIndex(s.phase, run.L)]),
    example, lesson, tour, compare});
}

// the header's words about the run on screen, two lines of them; the whole in the title
function setSummary(text) {
  $("run-summary").textContent = text;
  $("run-summary").title = text;
}

// a reporter of one load's progress (a run in training, or waiting for its turn): the
// form's bar, the header's words (only as the state changes: they are read out), and a
// banner above the views with the time left, since a big run trains for a minute while
// the views wait. current(): whether this load is still the one the page waits for
function progressReporter(hadRun, current) {
  let since = null;
  return (fraction, queuePosition = null, retryIn = null, lost = false) => {
    if (!current()) return;
    const done = fraction >= 1, banner = $("training-banner");
    $("run-progress").hidden = done;
    $("run-progress").value = fraction;
    banner.hidden = done;
    const text = done ? "" : trainingText(fraction, queuePosition, retryIn, lost);
    $("run-progress-text").textContent = text;
    if (done) return;
    const state = text.replace(/ \d+ %$/, "");
    const header = state[0].toUpperCase() + state.slice(1);
    if ($("run-summary").textContent !== header) setSummary(header);
    const now = performance.now(), training = !lost && queuePosition === null && retryIn === null && fraction > 0;
    if (!training || since === null) since = {at: now, fraction};
    banner.querySelector("progress").value = fraction;
    banner.querySelector("span").textContent = bannerText(text, training ? secondsLeft(since, fraction, now) : null, hadRun);
  };
}

async function boot() {
  // (a server without lessons still serves runs: the menu stays hidden)
  const [options, lessons] = await Promise.all([api.options(), api.lessons().catch(() => [])]);
  const page = createPage(options);
  // before the first run loads: a ?lesson= link sets that lesson's run and view
  const lessonAlert = connectLessons(page.store, lessons, {options,
    show: (patch, view) => showConfig(page, patch, view),
    // a tour's buttons go to a step's view: playing on would leave it at once
    pause: () => { page.player.stop(); page.phasePlayer.stop(); },
    lastStep: () => (page.session && !page.pendingKey ? page.session.run.num_steps - 1 : Infinity),
    layers: () => (page.session && !page.pendingKey ? page.session.run.L : Infinity)});
  // a new config trains a new run; anything else is a redraw of the run on screen
  page.store.subscribe((s) => {
    const key = JSON.stringify(s.config);
    if (key !== page.loadedKey && key !== page.pendingKey) {
      loadRun(page, {keepAlert: Boolean(s.keepAlert)});
      return;
    }
    if (key === page.loadedKey) {
      if (page.pendingKey) dropLoad(page);
      page.history.shown(s);
    } else if (page.session) {
      page.history.stepped({...s, ...shownRun(page)});
    }
    if (page.session) redraw(page);
  });
  if (lessonAlert) showAlert(lessonAlert);
  await loadRun(page, {keepAlert: Boolean(lessonAlert)});
}

boot().catch((err) => showAlert(errorText(err)));
