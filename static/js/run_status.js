// plain words about a run for the header and the alert: what it is, and what went wrong.
import {isPresenter} from "./dom.js";

const alertBox = () => document.querySelector("[data-testid=alert]");

// reveal: scroll the alert into view (the form that caused it may be far below)
export function showAlert(text, kind = "error", {reveal = false} = {}) {
  const box = alertBox();
  box.textContent = text;
  box.title = text;  // the whole words, where the presenter layout cuts them to a line
  box.className = `alert ${kind}`;
  // and a click, or Enter on it, shows them there, for a room that cannot read a tooltip
  // (lens.css); only there: the page layout shows them whole already
  box.tabIndex = 0;
  box.setAttribute("aria-expanded", "false");
  const toggle = () => {
    if (!isPresenter()) return;
    box.setAttribute("aria-expanded", String(box.classList.toggle("whole")));
  };
  box.onclick = toggle;
  box.onkeydown = (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); }
  };
  box.hidden = false;
  markCut(box);
  if (reveal) box.scrollIntoView({block: "nearest"});
}

// the presenter layout cuts the alert to a line (lens.css): where it is cut, its end says
// that a click shows all of it (again after a layout change or a resize: main.js)
function markCut(box) {
  box.classList.remove("cut");
  box.classList.toggle("cut", isPresenter() && box.scrollWidth > box.clientWidth + 1);
}

export function markAlertCut() {
  const box = alertBox();
  if (box && !box.hidden) markCut(box);
}

export function hideAlert() {
  const box = alertBox();
  box.hidden = true;
  box.textContent = box.title = "";
}

// about how many seconds a training run has left, from its progress since `since` ({at,
// fraction}, performance.now() ms): null until two seconds have passed, too early to say
export function secondsLeft(since, fraction, now) {
  const rate = (fraction - since.fraction) / (now - since.at);
  return now - since.at > 2000 && rate > 0 ? (1 - fraction) / rate / 1000 : null;
}

// the banner above the views while a run trains or waits (text: trainingText's; left:
// secondsLeft's; hadRun: the last run stays on screen meanwhile)
export function bannerText(text, left, hadRun) {
  const time = left === null ? "" : `, about ${left < 60 ? `${Math.max(5, Math.ceil(left / 5) * 5)} s`
    : `${Math.round(left / 60)} min`} left`;
  return `${hadRun ? "The new run is" : "This run is"} ${text}${time}. ` +
    (hadRun ? "The run on screen stays until it is done." : "The views fill in when it is done.");
}

// the header's words while a run trains, or waits its turn for one of the server's
// training threads (queuePosition: the waiting runs that train before it, or null), or
// waits to ask again after the server refused for now (retryIn seconds, or null)
export function trainingText(fraction, queuePosition = null, retryIn = null, lost = false) {
  if (lost) return "waiting: the server does not answer (restarting?); asking again every second";
  if (retryIn !== null) {
    return `waiting: this server already trains as many runs as it allows you; asking again in ${retryIn} s`;
  }
  if (queuePosition === 0) return "waiting: next in line to train";
  if (queuePosition > 0) return `waiting: ${queuePosition} run${queuePosition === 1 ? "" : "s"} ahead`;
  return `training… ${Math.round(100 * fraction)} %`;
}

// the classic mistakes (CONTRACT §7) in the words of their lessons' titles
const MISTAKES = {
  activation_cache_holds_A: "the activation cache holds A", missing_1_over_m: "dW without 1/m",
  no_activation_derivative: "dZ = dA, no g′(Z)", wrong_update_sign: "W = W + α dW",
  dropout_mask_forgotten_in_backward: "dropout mask forgotten in backward",
  l2_gradient_missing: "L2 in the cost but not in dW",
};

// a classic mistake's words, then its id (CONTRACT §7): "dW without 1/m (missing_1_over_m)"
export const mistakeName = (bug) => (MISTAKES[bug] ? `${MISTAKES[bug]} (${bug})` : bug);

export function describeRun(run) {
  const c = run.config, bug = activeBug(run);
  const batch = c.batch_size === null ? "full batch" : `mini-batches of ${c.batch_size}`;
  const extras = [c.l2 ? `L2 λ = ${c.l2}` : "", c.keep_prob < 1 ? `dropout keep_prob = ${c.keep_prob}` : ""]
    .filter(Boolean).join(", ");
  // a mistake first, in its words (the id is in the form and the lesson): the header shows
  // two lines of this. the learning rate and the batch before the activations, whose list
  // grows with the layers (at 1024 px it cut α off)
  return (bug ? `classic mistake: ${MISTAKES[bug] || bug} · ` : "") +
    `${c.dataset} · ${run.dims.join(" → ")} · ${c.optimizer}, α = ${c.learning_rate} · ${batch} · ` +
    `${run.num_steps} iterations · ${c.activations.join(", ")} · ${c.loss} · ${c.init} init` +
    (extras ? ` · ${extras}` : "");
}

// the classic mistake (CONTRACT §7) the run's code makes, where it changes a number (an
// inactive one trains as the correct code does); null without one
export const activeBug = (run) => (run.config.bug && run.bug_active !== false ? run.config.bug : null);

export function describeDivergence(run) {
  const {step, layer, tensor} = run.diverged;
  const where = tensor === "cost" ? "the cost" : `${tensor} of layer ${layer}`;
  // a run with a classic mistake (CONTRACT §7) that changes its numbers diverges by the
  // mistake as likely as by its learning rate: the same α trains without it
  const cause = activeBug(run)
    ? `This run has the classic mistake “${run.config.bug}”, which can make training diverge ` +
      `at a learning rate (${run.config.learning_rate}) that trains without it: compare the run without the bug.`
    : `The learning rate (${run.config.learning_rate}) is probably too large for this network; try a smaller one.`;
  return `Training diverged at iteration ${step}: ${where} became infinite or not a number, ` +
    `so training stopped there: iterations 0 to ${run.num_steps - 1} are recorded. ${cause}`;
}
