// lessons (CONTRACT §7): curated runs with a view and words. a lesson is a URL:
// ?lesson=<id>&tour=<n> names it and the step of its tour (0, left out: the lesson's own
// view, where it opens; 1..N: the tour's steps); the rest of the URL (the config,
// it, phase, layer, compare) is the view it opened, as for any run. so a reload restores
// the lesson from its URL, and a bare ?lesson=<id> (a link on a teacher's slide) opens it.
import {configOverrides, viewParamsIn} from "./state.js";
import {phaseWithin} from "./phases.js";
import {createLessonMenu} from "./lesson_menu.js";
import {createLessonPanel} from "./lesson_panel.js";

// the view of tour step n: the lesson's own view (n = 0), or the step's over it
function tourView(lesson, n) {
  const step = n > 0 ? lesson.tour[n - 1] : null;
  return {...lesson.view, ...(step ? step.view : {})};
}

// the state's part of a view {it, phase, layer} on the run on screen: lastStep, its last
// iteration, and L, its number of layers (Infinity while it loads). a lesson shown on a
// smaller run (a check report's link keeps the failing case's layers) keeps to its layers
function viewPatch(view, lastStep, L = Infinity) {
  const patch = {};
  if (Number.isInteger(view.it)) patch.iteration = Math.max(0, Math.min(view.it, lastStep));
  if (typeof view.phase === "string") patch.phase = phaseWithin(view.phase, L);
  if (Number.isInteger(view.layer)) patch.layer = Math.max(1, Math.min(view.layer, L));
  return patch;
}

const clampTour = (lesson, n) => Math.max(0, Math.min(n, lesson.tour.length));

// the whole state of lesson `lesson` at tour step n: its run, its view, its comparison.
// (the run's length is not known before it trains: the page clamps the iteration then)
function openPatch(lesson, n, options) {
  return {config: configOverrides(lesson.config, options), runId: null, lesson: lesson.id, tour: n,
    compare: lesson.compare ? lesson.compare.run_id : null, compareTensor: "auto", compareColours: "shared",
    ...viewPatch(tourView(lesson, n), Infinity)};
}

// the menu, the panel and the URL's lesson, kept in step with the store. show(patch,
// view): the page's way to a config at a view (the lesson, its view and its second run
// come with its run, main.js showConfig); lastStep() and layers(): the last iteration and
// L of the run on screen (Infinity while one loads). returns the alert's words when the
// URL names a lesson this server does not have, else null
export function connectLessons(store, lessons, {options, show: showRun, lastStep, layers, pause}) {
  const byId = new Map(lessons.map((lesson) => [lesson.id, lesson]));
  let focusPanel = false;  // a lesson chosen from the menu: its panel takes the focus
  const open = (id) => {
    const {config, runId, ...view} = openPatch(byId.get(id), 0, options);
    focusPanel = true;
    showRun({config, runId}, view);
  };
  // delta 0: back to the step's view, after stepping away from it; the lesson's second
  // run comes back with it, if it was closed (its steps speak of it). returns whether the
  // iteration, phase or layer changed
  const walk = (delta) => {
    const s = store.get(), lesson = byId.get(s.lesson), n = clampTour(lesson, s.tour + delta);
    const view = viewPatch(tourView(lesson, n), lastStep(), layers());
    pause();
    store.set({tour: n, ...view, ...(lesson.compare ? {compare: lesson.compare.run_id} : {})});
    return Object.entries(view).some(([key, value]) => s[key] !== value);
  };
  const close = () => {
    store.set({lesson: null, tour: 0});
    menu.focus();
  };
  // plotly's figures measure their boxes again on the window's resize event (the panel
  // keeps under the sticky controls by their --controls-height: controls.js)
  const relayout = () => requestAnimationFrame(() => window.dispatchEvent(new Event("resize")));
  const panel = createLessonPanel(document.getElementById("lesson-panel"), {walk, close}, relayout);
  const menu = createLessonMenu(document.querySelector("[data-testid=lessons]"), lessons, open);
  // whether the views have moved off tour step n's (an iteration, phase or layer since, or
  // the lesson's second run closed)
  const away = (s, lesson, n) => n > 0 && (Object.entries(viewPatch(tourView(lesson, n), lastStep(), layers()))
    .some(([key, value]) => s[key] !== value) || Boolean(lesson.compare) && s.compare !== lesson.compare.run_id);
  const show = (s) => {
    const lesson = byId.get(s.lesson) || null, n = lesson ? clampTour(lesson, s.tour) : 0;
    panel.show(lesson, n, Boolean(lesson) && away(s, lesson, n), Boolean(s.compare));
    menu.mark(s.lesson);
    if (lesson && focusPanel) panel.focus();
    focusPanel = false;
  };
  const VIEW = ["lesson", "tour", "iteration", "phase", "layer", "compare"];
  store.subscribe((s, before) => { if (VIEW.some((key) => s[key] !== before[key])) show(s); });
  menu.place(store.get().layout === "presenter");
  store.subscribe((s, before) => {
    if (s.layout !== before.layout) menu.place(s.layout === "presenter");
  });
  return openLinked(store, byId, options, show);
}

// the URL's lesson when the page loads. a URL with a run (its config, or a run id) is
// restored as it stands: the page writes every lesson's config into its URLs; a bare link
// opens the lesson's run and view at its tour step, and a link written by hand with a view
// but no config or run (?lesson=divergence&it=5&phase=cost&layer=3) opens the lesson's run
// at that view. (a lesson left open over the default run, whose URL has no config, opens
// its own run again on a reload)
function openLinked(store, byId, options, show) {
  const s = store.get();
  if (s.lesson === null) return null;
  const lesson = byId.get(s.lesson);
  if (!lesson) {
    store.set({lesson: null, tour: 0});
    return `There is no lesson named “${s.lesson}” on this server: showing the run without it.`;
  }
  const n = clampTour(lesson, s.tour), given = viewParamsIn(window.location.search);
  const ownUrl = s.runId !== null || Object.keys(configOverrides(s.config, options)).length > 0;
  if (ownUrl) {
    if (n !== s.tour) store.set({tour: n});
  } else {
    const patch = openPatch(lesson, n, options);
    for (const key of given) patch[key] = s[key];
    // a layer's phase without a layer: that layer's, as stepping the phases shows it
    const [, l] = patch.phase.split("-");
    if (l !== undefined && !given.includes("layer")) patch.layer = Number(l);
    store.set(patch);
  }
  show(store.get());
  return null;
}
