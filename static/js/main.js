// boots the page: options -> state from the URL -> run -> views; then keeps the views in
// step with the state. each piece lives in its own module; this one only connects them.
import {api, ApiError} from "./api.js";
import {readUrl, createStore, configOverrides} from "./state.js";
import {openSession} from "./run_session.js";
import {createRunForm} from "./run_form.js";
import {createControls} from "./controls.js";
import {createRenderer} from "./step_renderer.js";
import {createPlayer} from "./player.js";
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
import {showAlert, hideAlert, describeRun, describeDivergence} from "./run_status.js";

const $ = (id) => document.getElementById(id);
// [module, element id, extra render argument, marker: only moves a step marker]
const VIEWS = [
  [networkView, "view-network"], [cacheView, "view-cache", (cell) => formulaView.explain(cell)],
  [formulaView, "cell-formula"], [lossView, "view-loss", null, true], [modelView, "view-boundary"],
  [gradientFlowView, "view-gradient-flow", null, true], [distributionsView, "view-distributions", null, true],
  [codeView, "view-code"], [cacheExplainerView, "cache-explainer"], [gradcheckView, "gradcheck"],
  [phaseView, "phase-io"],
].map(([module, id, extra, marker]) => ({module, element: $(id), extra, marker}));

function errorText(err) {
  if (err instanceof ApiError && err.status === 422) return `This run's settings are not valid. ${err.detail}`;
  return err instanceof ApiError ? err.detail : `Something went wrong: ${err.message}`;
}

async function boot() {
  const options = await api.options();
  const defaults = options.default_config;
  const store = createStore(readUrl(window.location.search, defaults), defaults);
  // loadedKey: the config the views show, as JSON; pendingKey: the one being trained
  let session = null, loadedKey = null, pendingKey = null;
  const renderer = createRenderer(VIEWS, (err) => showAlert(errorText(err)));
  const controls = createControls(store, {togglePlay: () => player.toggle()});
  const player = createPlayer({store, renderer, lastStep: () => (session ? session.run.num_steps - 1 : 0),
    prefetch: (t) => session && prefetchFrame(session.run, t, store.get().layer),
    onChange: (on) => { controls.setPlaying(on); if (!on) redraw(); }});
  const fillForm = createRunForm($("run-form"), options, (config) =>
    store.set({config, iteration: 0, phase: "forward-1", layer: 1, runId: null}));
  $("run-reset").addEventListener("click", () =>
    store.set({config: {}, iteration: 0, phase: "forward-1", layer: 1, runId: null}));

  const redraw = () => {
    const s = store.get();
    document.documentElement.classList.toggle("big", s.big);
    setBigFonts(s.big);
    controls.sync(s);
    const drawn = renderer.draw({...s, playing: player.playing});
    // paused, the next move is most likely one step either way: fetch both while idle
    if (!player.playing) drawn.then(() => prefetchNeighbours(store.get()));
    return drawn;
  };
  const prefetchNeighbours = (s) => {
    if (!session || player.playing) return;
    prefetchFrame(session.run, s.iteration + 1, s.layer);
    prefetchFrame(session.run, s.iteration - 1, s.layer);
  };

  async function loadRun({keepAlert = false} = {}) {
    player.stop();
    if (!keepAlert) hideAlert();
    const s = store.get();
    pendingKey = JSON.stringify(s.config);
    try {
      session = await openSession(options, {config: s.config, runId: s.runId}, showProgress,
        (opened) => { if (opened === session) redraw(); });
    } catch (err) {
      pendingKey = null;
      showAlert(errorText(err));
      // keep showing the last good run (or the default one) under the alert
      const good = session ? JSON.parse(loadedKey) : {};
      if (JSON.stringify(good) !== JSON.stringify(s.config)) store.set({config: good, runId: null, keepAlert: true});
      return;
    }
    pendingKey = null;
    adoptRun(session, store.get());
  }

  function adoptRun(opened, s) {
    const {run} = opened;
    renderer.setSession(opened);
    controls.setRun(run);
    fillForm(run.config);
    $("run-summary").textContent = describeRun(run);
    if (run.diverged) showAlert(describeDivergence(run));
    const phases = phaseList(run.L);
    const config = s.runId ? configOverrides(run.config, options.default_config) : s.config;
    loadedKey = JSON.stringify(config);
    store.set({config, runId: null, keepAlert: false, iteration: Math.min(s.iteration, run.num_steps - 1),
      layer: Math.min(Math.max(1, s.layer), run.L), phase: phaseKey(phases[phaseIndex(s.phase, run.L)])});
  }

  function showProgress(fraction) {
    $("run-progress").hidden = fraction >= 1;
    $("run-progress").value = fraction;
    $("run-progress-text").textContent = fraction >= 1 ? "" : `training… ${Math.round(100 * fraction)} %`;
    if (fraction < 1) $("run-summary").textContent = `Training… ${Math.round(100 * fraction)} %`;
  }

  store.subscribe((s) => {
    const key = JSON.stringify(s.config);
    if (key !== loadedKey && key !== pendingKey) loadRun({keepAlert: Boolean(s.keepAlert)});
    else if (session) redraw();
  });
  await loadRun();
}

boot().catch((err) => showAlert(errorText(err)));
