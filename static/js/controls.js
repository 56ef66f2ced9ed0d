// step controls: slider, previous/next, jump, phase walk, layer, colour scale, keyboard.
// every control only asks the store for a new state; sync() mirrors the state back.
import {phaseList, phaseKey, phaseIndex, phaseLabel} from "./phases.js";

const $ = (id) => document.getElementById(id);
const TEXT_INPUTS = new Set(["text", "number", "search"]);

function isTyping(target) {
  return target && (target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
    (target.tagName === "INPUT" && TEXT_INPUTS.has(target.type)));
}

export function createControls(store, actions) {
  const limits = {steps: 1, L: 1};
  const clampStep = (t) => Math.max(0, Math.min(limits.steps - 1, t));
  const goStep = (t) => store.set({iteration: clampStep(t)});
  const walkPhase = (delta) => {
    const list = phaseList(limits.L), s = store.get();
    const next = list[Math.max(0, Math.min(list.length - 1, phaseIndex(s.phase, limits.L) + delta))];
    store.set({phase: phaseKey(next), ...(next.l ? {layer: next.l} : {})});
  };
  $("step-prev").addEventListener("click", () => goStep(store.get().iteration - 1));
  $("step-next").addEventListener("click", () => goStep(store.get().iteration + 1));
  $("step-slider").addEventListener("input", (e) => goStep(Number(e.target.value)));
  $("jump").addEventListener("change", (e) => goStep(Number(e.target.value) || 0));
  $("phase-prev").addEventListener("click", () => walkPhase(-1));
  $("phase-next").addEventListener("click", () => walkPhase(1));
  $("layer-select").addEventListener("change", (e) => store.set({layer: Number(e.target.value)}));
  $("scale").addEventListener("change", (e) => store.set({scale: e.target.value}));
  $("speed").addEventListener("change", (e) => store.set({speed: Number(e.target.value)}));
  $("example").addEventListener("change", (e) => store.set({example: Math.max(0, Number(e.target.value) || 0)}));
  $("big-fonts").addEventListener("change", (e) => store.set({big: e.target.checked}));
  $("play-toggle").addEventListener("click", () => actions.togglePlay());
  $("phase-strip").addEventListener("click", (e) => {
    const key = e.target.dataset && e.target.dataset.phase;
    if (key) store.set({phase: key, ...(e.target.dataset.layer ? {layer: Number(e.target.dataset.layer)} : {})});
  });
  bindKeys(store, {goStep, walkPhase, togglePlay: actions.togglePlay});
  return {
    setRun(run) {
      limits.steps = run.num_steps;
      limits.L = run.L;
      $("step-slider").max = String(run.num_steps - 1);
      $("jump").max = String(run.num_steps - 1);
      $("layer-select").replaceChildren(...[...Array(run.L).keys()].map((k) =>
        new Option(`layer ${k + 1} (${run.config.activations[k]}, ${run.dims[k + 1]} unit${run.dims[k + 1] === 1 ? "" : "s"})`,
          String(k + 1))));
      drawStrip(run.L);
    },
    sync: (state) => sync(state, limits),
    setPlaying(on) { $("play-toggle").textContent = on ? "❚❚ Pause" : "▶ Play"; },
  };
}

function bindKeys(store, {goStep, walkPhase, togglePlay}) {
  const onKey = (e) => {
    if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = store.get().iteration;
    const moves = {
      ArrowLeft: () => (e.shiftKey ? walkPhase(-1) : goStep(t - 1)),
      ArrowRight: () => (e.shiftKey ? walkPhase(1) : goStep(t + 1)),
      ArrowUp: () => walkPhase(-1), ArrowDown: () => walkPhase(1), " ": togglePlay,
    };
    if (!moves[e.key]) return;
    e.preventDefault();  // no scrolling, no slider nudge, no button click on space
    if (e.type === "keydown") moves[e.key]();
  };
  document.addEventListener("keydown", onKey);
  // a focused button would click itself on the space key's keyup
  document.addEventListener("keyup", (e) => { if (e.key === " " && !isTyping(e.target)) e.preventDefault(); });
}

function drawStrip(L) {
  $("phase-strip").replaceChildren(...phaseList(L).map((p) => {
    const li = document.createElement("li");
    li.className = p.kind;
    li.dataset.phase = phaseKey(p);
    if (p.l && p.kind !== "cost") li.dataset.layer = String(p.l);
    li.textContent = p.kind === "forward" ? `F${p.l}` : p.kind === "backward" ? `B${p.l}` : p.kind;
    li.title = phaseLabel(p);
    return li;
  }));
}

function sync(state, limits) {
  const t = state.iteration;
  $("step-slider").value = String(t);
  $("step-label").textContent = `iteration ${t} of ${limits.steps - 1}`;
  if (document.activeElement !== $("jump")) $("jump").value = String(t);
  const p = phaseList(limits.L)[phaseIndex(state.phase, limits.L)];
  $("phase-label").textContent = phaseLabel(p);
  for (const li of $("phase-strip").children) li.classList.toggle("current", li.dataset.phase === phaseKey(p));
  $("layer-select").value = String(state.layer);
  $("scale").value = state.scale;
  $("speed").value = String(state.speed);
  $("example").value = String(state.example);
  $("big-fonts").checked = state.big;
}
