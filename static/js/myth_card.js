// the "myth and truth" card of the cache inspector: it states the forum's answer
// ("linear_cache stores Z, activation_cache stores A") and refutes it with this run's own
// shapes and one entry of Z and A, as the engine recorded them (the network diagram's
// example, served with example=i). closed, it stays closed across reloads (localStorage); the
// inspector's "myth and truth" button opens it again.
import {shapeText, formatNumber as f} from "./tensors.js";
import {setHTML} from "./dom.js";

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

// the card's words for layer l at step t, with the diagram's example: its Z[l] and A[l]
// columns as the engine recorded them (example=i), and j, its column in the batch
function words(frame, T) {
  const l = frame.layer, {Z, A, j} = frame.example;
  const i = contrastRow(Z[l], A[l]);
  const entry = `, whose entry [${i}, ${j}] is <b class="myth-z">${f(Z[l][i], 3)}</b> — not A[${l}], ` +
    `whose entry [${i}, ${j}] is <b class="myth-a">${f(A[l][i], 3)}</b>`;
  return `<b>Myth:</b> “linear_cache stores Z, activation_cache stores A.” ` +
    `<b>Truth, in this run</b> (iteration ${frame.t}): linear_cache[${l}] holds A_prev (${shapeText(T.A_prev)}), ` +
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
