// the "myth and truth" card of the cache inspector: it states the forum's answer
// ("linear_cache stores Z, activation_cache stores A") and refutes it with this run's own
// shapes and one entry of Z and A, as the engine recorded them (the network diagram's
// example, served with example=i). closed, it stays closed across reloads (localStorage); the
// inspector's "myth and truth" button opens it again.
import {shapeText, formatNumber as f} from "./tensors.js";
import {setHTML} from "./dom.js";
import {cachesA} from "./mistakes.js";
import {activeBug} from "./run_status.js";

const KEY = "backprop-lens:myth-card";
let card = null, reopen = null, text = null, last = null;

function closedBefore() {
  try { return localStorage.getItem(KEY) === "closed"; } catch { return false; }
}

function remember(closed) {
  try {
    if (closed) localStorage.setItem(KEY, "closed");
    else localStorage.removeItem(KEY);
  } catch { /* storage refused (private mode): the card just opens again next time */ }
}

function show(open) {
  card.hidden = !open;
  reopen.setAttribute("aria-expanded", String(open));
  reopen.hidden = open;
}

// the unit where one example's Z and A differ most: the clearest "not A"
function contrastRow(Z, A) {
  let best = 0;
  Z.forEach((z, i) => { if (Math.abs(z - A[i]) > Math.abs(Z[best] - A[best])) best = i; });
  return best;
}

// Z[l]'s entry [i, j] against A[l]'s, where they differ; where this example's Z[l] and
// A[l] are equal at every unit (a linear layer; a ReLU layer of a zero init, all 0; a
// diverged step, not finite), an entry of each would contrast two equal numbers: say why
function entryWords(frame, l, i) {
  const {Z, A, j} = frame.example, z = Z[l][i], a = A[l][i];
  const value = (v, name) => `<b class="myth-${name}">${f(v, 3)}</b>`;
  const finite = Number.isFinite(z);
  if (finite ? z !== a : Number.isFinite(a)) return `, whose entry [${i}, ${j}] is ${value(z, "z")} — not A[${l}], whose entry [${i}, ${j}] is ${value(a, "a")}`;
  if (frame.run.config.activations[l - 1] === "linear") {
    return `; layer ${l} is linear, so A[${l}] = Z[${l}] holds the same numbers (entry [${i}, ${j}]: ` +
      `${value(z, "z")}), and the cache still holds Z[${l}], the input of g′`;
  }
  const same = finite ? `equal (entry [${i}, ${j}]: ${value(z, "z")})` : "not finite";
  return `; for this example every unit's Z[${l}] and A[${l}] are ${same} at this iteration, so ` +
    "no entry of theirs tells them apart here";
}

// a forward phase before the layer's: its cache is not written yet at this iteration (the
// inspector draws it faded), and the card says when it will be
const pending = (frame) => (frame.phase.kind === "forward" && frame.phase.l < frame.layer
  ? `, once forward reaches layer ${frame.layer}` : "");

// the card's words for layer l at step t, with the diagram's example: its Z[l] and A[l]
// columns as the engine recorded them (example=i), and j, its column in the batch
function words(frame, T) {
  const l = frame.layer, {Z, A} = frame.example;
  const entry = entryWords(frame, l, contrastRow(Z[l], A[l]));
  // a run of the myth's own mistake (CONTRACT §7) caches A[l]: the inspector still frames
  // what the correct code keeps, and the card says which is which
  const mistaken = cachesA(activeBug(frame.run));
  const truth = mistaken
    ? `<b>This run makes that mistake</b> (bug activation_cache_holds_A): its activation_cache[${l}] holds ` +
      `A[${l}], so backward takes g′ at A[${l}]. <b>The correct code</b> (framed below, iteration ${frame.t}${pending(frame)}): `
    : `<b>Truth, in this run</b> (iteration ${frame.t}${pending(frame)}): `;
  return `<b>Myth:</b> “linear_cache stores Z, activation_cache stores A.” ${truth}` +
    `linear_cache[${l}] holds A_prev (${shapeText(T.A_prev)}), ` +
    `W[${l}] (${shapeText(T.W)}) and b[${l}] (${shapeText(T.b)}) — not Z; activation_cache[${l}] holds ` +
    `Z[${l}] (${shapeText(T.Z)})${entry}.`;
}

export function update(frame, T) {
  last = {frame, T};
  if (card.hidden || !T.Z || !T.A_prev) return;
  setHTML(text, words(frame, T));
}

export function render(cardElement, reopenButton) {
  card = cardElement;
  reopen = reopenButton;
  text = document.createElement("p");
  text.className = "myth-text";
  const close = Object.assign(document.createElement("button"), {type: "button", className: "myth-close", textContent: "×"});
  close.setAttribute("aria-label", "close the myth and truth card");
  card.replaceChildren(text, close);
  close.addEventListener("click", () => { remember(true); show(false); reopen.focus(); });
  reopen.addEventListener("click", () => {
    remember(false);
    show(true);
    if (last) update(last.frame, last.T);
    close.focus();
  });
  show(!closedBefore());
}
