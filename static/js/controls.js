// step controls: slider, previous/next, jump, phase walk, layer, colour scale, keyboard,
// and the bar's own disclosures (the keys, "more" on a phone) and the presenter layout.
// every control only asks the store for a new state; sync() mirrors the state back.
import {phaseList, phaseKey, phaseIndex, phaseLabel, phaseStep} from "./phases.js";
import {PACES} from "./phase_player.js";

const $ = (id) => document.getElementById(id);
const TEXT_INPUTS = new Set(["text", "number", "search", "email", "url", "tel", "password"]);

// the keys belong to the page everywhere but in a field that takes text
export function isTextField(target) {
  return Boolean(target) && (target.tagName === "TEXTAREA" || target.isContentEditable ||
    (target.tagName === "INPUT" && TEXT_INPUTS.has(target.type)));
}

// a drop-down keeps ↑/↓ and space to choose its option; ←/→ step the iteration there too
const OWN_KEYS = {SELECT: new Set(["ArrowUp", "ArrowDown", " "])};
const ownsKey = (target, key) => Boolean(target && OWN_KEYS[target.tagName] && OWN_KEYS[target.tagName].has(key));

export function createControls(store, actions) {
  // known: a run's info has come (setRun). before it, a run that trains has no steps to
  // go to: a step or phase control keeps the state a link asked for, rather than clamp it
  // to a run of one step (a click had moved a shared link's iteration 20 · backward 2 to
  // iteration 0 · update)
  const limits = {steps: 1, L: 1, known: false};
  const clampStep = (t) => Math.max(0, Math.min(limits.steps - 1, t));
  const goStep = (t) => { if (limits.known) store.set({iteration: clampStep(t)}); };
  const walkPhase = (delta) => {
    if (!limits.known) return;
    const s = store.get(), k = phaseIndex(s.phase, limits.L);
    const {iteration, phase} = phaseStep(s.iteration, k, delta, limits.L, limits.steps);
    store.set({iteration, phase: phaseKey(phase), ...(phase.l ? {layer: phase.l} : {})});
  };
  $("step-prev").addEventListener("click", () => goStep(store.get().iteration - 1));
  $("step-next").addEventListener("click", () => goStep(store.get().iteration + 1));
  $("step-slider").addEventListener("input", (e) => goStep(Number(e.target.value)));
  // the box shows where it went: 9999 goes to the last iteration, 2.5 to 2, and says so
  $("jump").addEventListener("change", (e) => {
    // an emptied box goes nowhere: it shows the iteration again
    const typed = e.target.value.trim();
    const t = typed === "" || !limits.known ? store.get().iteration : clampStep(Math.trunc(Number(typed)) || 0);
    e.target.value = String(t);
    goStep(t);
  });
  $("phase-prev").addEventListener("click", () => walkPhase(-1));
  $("phase-next").addEventListener("click", () => walkPhase(1));
  $("layer-select").addEventListener("change", (e) => store.set({layer: Number(e.target.value)}));
  $("scale").addEventListener("change", (e) => store.set({scale: e.target.value}));
  $("speed").addEventListener("change", (e) => store.set({speed: Number(e.target.value)}));
  $("example").addEventListener("change", (e) => store.set({example: Math.max(0, Number(e.target.value) || 0)}));
  $("big-fonts").addEventListener("change", (e) => store.set({big: e.target.checked}));
  $("play-toggle").addEventListener("click", () => actions.togglePlay());
  $("phase-play").addEventListener("click", () => actions.togglePhasePlay());
  $("pace").replaceChildren(...Object.keys(PACES).map((name) => new Option(name, name)));
  $("pace").title = `seconds per phase while the phases play: ${Object.entries(PACES).map(([name, ms]) => `${name} ${ms / 1000} s`).join(", ")}`;
  $("pace").addEventListener("change", (e) => store.set({pace: e.target.value}));
  $("presenter").addEventListener("click", (e) => {
    store.set({layout: store.get().layout === "presenter" ? "page" : "presenter"});
    // clicked with a mouse (detail: the click count; 0 from a key): the button lets the
    // focus go, so that the teacher's next Space plays, rather than pressing it again and
    // leaving the layout. A keyboard user's focus stays where it was
    if (e.detail > 0) e.currentTarget.blur();
  });
  $("quiz-toggle").addEventListener("click", () => store.set({quiz: !store.get().quiz}));
  bindDisclosures();
  trackBarHeight();
  $("phase-strip").addEventListener("click", (e) => {
    const chip = e.target.closest("button[data-phase]");
    if (chip && limits.known) store.set({phase: chip.dataset.phase, ...(chip.dataset.layer ? {layer: Number(chip.dataset.layer)} : {})});
  });
  bindKeys(store, {goStep, walkPhase, togglePlay: actions.togglePlay, togglePhasePlay: actions.togglePhasePlay});
  return {
    setRun(run) {
      limits.steps = run.num_steps;
      limits.L = run.L;
      limits.known = true;
      $("step-slider").max = String(run.num_steps - 1);
      $("jump").max = String(run.num_steps - 1);
      $("layer-select").replaceChildren(...[...Array(run.L).keys()].map((k) =>
        new Option(`layer ${k + 1} (${run.config.activations[k]}, ${run.dims[k + 1]} unit${run.dims[k + 1] === 1 ? "" : "s"})`,
          String(k + 1))));
      drawStrip(run.L);
    },
    sync: (state) => sync(state, limits),
    setPlaying(on) { $("play-toggle").textContent = on ? "❚❚ Pause" : "▶ Play"; },
    setPhasePlaying(on) {
      $("phase-play").setAttribute("aria-pressed", String(on));
      $("phase-play").firstChild.textContent = on ? "❚❚" : "▶";
    },
  };
}

// the page's own keys: not in a text field, not with a modifier, not a key that the
// focused drop-down, button or box uses itself
const pageKey = (e) => !isTextField(e.target) && !e.ctrlKey && !e.metaKey && !e.altKey &&
  !ownsKey(e.target, e.key) && !(e.key === " " && ownsSpace(e.target));
// space presses a focused button (a phase chip, "iteration ▶", play itself), as on any
// page, ticks a box and opens and closes a disclosure's summary; with none of these
// focused, it plays and pauses
const ownsSpace = (target) => Boolean(target && target.closest &&
  (target.closest("button, summary, [role=button]") ||
   (target.tagName === "INPUT" && ["checkbox", "radio", "button", "submit", "reset"].includes(target.type))));

function bindKeys(store, {goStep, walkPhase, togglePlay, togglePhasePlay}) {
  const onKey = (e) => {
    if (!pageKey(e)) return;
    const t = store.get().iteration;
    const moves = {
      ArrowLeft: () => (e.shiftKey ? walkPhase(-1) : goStep(t - 1)),
      ArrowRight: () => (e.shiftKey ? walkPhase(1) : goStep(t + 1)),
      ArrowUp: () => walkPhase(-1), ArrowDown: () => walkPhase(1), " ": togglePlay,
      p: togglePhasePlay, P: togglePhasePlay,
    };
    if (!moves[e.key]) return;
    e.preventDefault();  // no scrolling, no slider nudge, no drop-down change
    moves[e.key]();
  };
  document.addEventListener("keydown", onKey);
  // space that plays does not also scroll the page on its keyup
  document.addEventListener("keyup", (e) => { if (e.key === " " && pageKey(e)) e.preventDefault(); });
}

// one button per phase: reachable with Tab, chosen with a click, Enter or space
function drawStrip(L) {
  $("phase-strip").replaceChildren(...phaseList(L).map((p) => {
    const li = document.createElement("li"), chip = document.createElement("button");
    li.className = p.kind;
    chip.type = "button";
    chip.dataset.phase = phaseKey(p);
    if (p.l && p.kind !== "cost") chip.dataset.layer = String(p.l);
    chip.textContent = p.kind === "forward" ? `F${p.l}` : p.kind === "backward" ? `B${p.l}` : p.kind;
    chip.title = phaseLabel(p);
    chip.setAttribute("aria-label", phaseLabel(p));
    li.append(chip);
    return li;
  }));
}

// the phase a state names ("backward-2"), before a run's info says how many layers it has
function namedPhase(key) {
  const [kind, l] = key.split("-");
  return {kind, l: l === undefined ? null : Number(l)};
}

function sync(state, limits) {
  const t = state.iteration;
  $("step-slider").value = String(t);
  $("step-label").textContent = limits.known ? `iteration ${t} of ${limits.steps - 1}`
    : `iteration ${t} (the run is not ready yet)`;
  if (document.activeElement !== $("jump")) $("jump").value = String(t);
  const phases = phaseList(limits.L), k = phaseIndex(state.phase, limits.L), p = phases[k];
  $("phase-label").textContent = phaseLabel(limits.known ? p : namedPhase(state.phase));
  for (const li of $("phase-strip").children) {
    const current = li.firstChild.dataset.phase === phaseKey(p);
    li.classList.toggle("current", current);
    if (current) li.firstChild.setAttribute("aria-current", "step");
    else li.firstChild.removeAttribute("aria-current");
  }
  markEnds(t === 0, t === limits.steps - 1, k === 0, k === phases.length - 1);
  $("layer-select").value = String(state.layer);
  $("scale").value = state.scale;
  $("speed").value = String(state.speed);
  $("pace").value = state.pace;
  $("example").value = String(state.example);
  $("big-fonts").checked = state.big;
  $("presenter").setAttribute("aria-pressed", String(state.layout === "presenter"));
  $("quiz-toggle").setAttribute("aria-pressed", String(Boolean(state.quiz)));
}

// a step button with nowhere to go (the first or last iteration, or phase of the run)
// says so in its look and its tooltip; it stays a button that does nothing there, as a
// disabled one would drop out of Tab and its words' contrast
function markEnds(firstIteration, lastIteration, firstPhase, lastPhase) {
  for (const [id, words, end, which] of [
    ["step-prev", "previous iteration", firstIteration, "first"],
    ["step-next", "next iteration", lastIteration, "last"],
    ["phase-prev", "previous phase", firstIteration && firstPhase, "first"],
    ["phase-next", "next phase", lastIteration && lastPhase, "last"]]) {
    const button = $(id);
    button.classList.toggle("at-end", end);
    if (!button.dataset.title) button.dataset.title = button.title;
    button.title = end ? `${words}: none, this is the ${which} one of the run` : button.dataset.title;
  }
}

// a button that shows or hides what it controls, and says so in aria-expanded
function disclosure(button, toggle) {
  const set = (open) => { button.setAttribute("aria-expanded", String(open)); toggle(open); };
  button.addEventListener("click", () => set(button.getAttribute("aria-expanded") !== "true"));
  return set;
}

// --controls-height: the sticky bar's height, as it grows and shrinks (a wrapped line,
// "more", large text). the page keeps that much room at the top when it scrolls an element
// into view (lens.css, scroll-margin-top: Shift+Tab does not focus an element under the
// bar) and the lesson panel sticks below it (lessons.css)
function trackBarHeight() {
  const bar = document.querySelector(".controls");
  const set = () => document.documentElement.style.setProperty("--controls-height", `${bar.offsetHeight}px`);
  set();
  new ResizeObserver(set).observe(bar);
}

// "?" shows the keys (Esc or a click elsewhere hides them); on a phone, "more" shows the
// secondary controls that the bar hides to stay within a quarter of the screen, until the
// page scrolls on by the opened bar's height: the bar then takes its quarter back
function bindDisclosures() {
  const keys = disclosure($("keys-toggle"), (open) => { $("keys-help").hidden = !open; });
  const bar = document.querySelector(".controls");
  let openedAt = null;  // scrollY where "more" opened; null: closed
  const more = disclosure($("more-controls"), (open) => {
    bar.classList.toggle("expanded", open);
    $("more-controls").textContent = open ? "less ▴" : "more ▾";
    openedAt = null;
    // from where the page stands once the grown bar is laid out (the browser may shift it)
    if (open) requestAnimationFrame(() => { if (bar.classList.contains("expanded")) openedAt = window.scrollY; });
    // a control that the bar hides again gives its focus to the button that shows it
    if (!open && document.activeElement && document.activeElement.closest(".controls .secondary")) {
      $("more-controls").focus({preventScroll: true});
    }
  });
  // (not while a control it shows has the focus: a phone's keyboard opening for "go to"
  // scrolls the page too)
  window.addEventListener("scroll", () => {
    const busy = isTextField(document.activeElement) && document.activeElement.closest(".controls");
    if (openedAt !== null && !busy && Math.abs(window.scrollY - openedAt) > bar.offsetHeight) more(false);
  }, {passive: true});
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") keys(false); });
  document.addEventListener("click", (e) => { if (!e.target.closest("#keys-toggle, #keys-help")) keys(false); });
}
