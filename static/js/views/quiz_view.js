// predict, then reveal: with the quiz on (state.quiz, quiz=1 in the URL), a phase that the
// learner arrives at (phase ▶/◀, a phase chip, phase play) holds its result back until they
// answer one question about its structure (quiz.js builds it from the frame). the card sits
// in the inspector, the same height asked or answered; <html class="quiz-held"> hides the
// views that would give the answer away. number keys pick, Enter checks, then Enter (or the
// next-phase key) goes on; phase play waits at a question (its hold) until then.
// the score of the session lives in sessionStorage.
import {makeQuestion, judge, questionKey} from "../quiz.js";
import {phaseKey} from "../phases.js";
import {isTextField} from "../controls.js";
import {createCard} from "./quiz_card.js";

const SCORE_KEY = "backprop-lens:quiz-score";
const asked = new Map();  // question key -> {question, picked: Set, revealed, verdict}
let card = null, drawn = null, store = null, hooks = null;
// armed: the view on screen was arrived at and asks once its frame is drawn
let armed = false, current = null, runId = null, waiters = [];

// ---- the session's score ----

function readScore() {
  try { return JSON.parse(sessionStorage.getItem(SCORE_KEY)) || {right: 0, answered: 0}; } catch { return {right: 0, answered: 0}; }
}

function count(right) {
  const s = readScore(), next = {right: s.right + (right ? 1 : 0), answered: s.answered + 1};
  try { sessionStorage.setItem(SCORE_KEY, JSON.stringify(next)); } catch { /* storage refused: the score shows, unsaved */ }
  return next;
}

const scoreText = ({right, answered}) => (answered ? `${right} / ${answered} this session` : "");
const score = () => scoreText(readScore());

// ---- the state of the view on screen ----

const viewKey = (s) => `${runId}|${s.iteration}|${s.phase}`;
const entryOf = (s) => asked.get(viewKey(s)) || null;

function holding() {
  const s = store.get();
  if (!s.quiz) return false;
  const entry = entryOf(s);
  return entry ? !entry.revealed : armed;
}

function syncHeld() {
  if (!card) return;  // before the first frame: the card is not drawn yet
  const on = Boolean(store.get().quiz);
  card.hidden = !on;
  document.documentElement.classList.toggle("quiz-on", on);
  document.documentElement.classList.toggle("quiz-held", holding());
}

function release() {
  const done = waiters;
  waiters = [];
  done.forEach((resolve) => resolve());
}

// a store change: a new phase (or run, or the quiz turned on) asks; the iteration alone
// does not (the iteration player and the slider move through steps, not phases)
function onState(s, before) {
  if (!s.quiz) {
    armed = false;
    current = null;
    release();
  } else if (!before.quiz || s.phase !== before.phase || s.config !== before.config) {
    armed = true;
    release();  // a hand on the controls: phase play has stopped; nothing waits any more
  } else if (s.iteration !== before.iteration) {
    armed = false;
    if (current && !asked.get(current).revealed) asked.delete(current);
    current = null;
    if (drawn) drawn.idle(score());
  }
  syncHeld();
}

// ---- answering ----

function pick(entry, id) {
  if (entry.revealed) return;
  if (!entry.question.multi) entry.picked.clear();
  if (entry.picked.has(id)) entry.picked.delete(id);
  else entry.picked.add(id);
  drawn.ask(entry, score());
}

function reveal(entry) {
  if (entry.revealed || entry.picked.size === 0) return;
  entry.verdict = judge(entry.question, entry.picked);
  entry.revealed = true;
  count(entry.verdict.right);
  drawn.reveal(entry, score(), waiters.length > 0);
  syncHeld();
  if (card.contains(document.activeElement)) drawn.focusButton();
  hooks.onReveal();
}

// after the reveal: phase play goes on, or the walk takes the next phase
function goOn() {
  if (waiters.length) release();
  else hooks.nextPhase();
}

const currentEntry = () => (current && store.get().quiz ? asked.get(current) : null);

// the card takes the keys when the focus is on it, in it, or nowhere in particular
const cardHasKeys = (target) => !target || target === document.body || card.contains(target);

function onKey(e) {
  const entry = currentEntry();
  if (!entry || e.ctrlKey || e.metaKey || e.altKey || isTextField(e.target)) return;
  const k = Number(e.key);
  if (!entry.revealed && Number.isInteger(k) && k >= 1 && k <= entry.question.options.length) {
    e.preventDefault();
    pick(entry, entry.question.options[k - 1].id);
  } else if (e.key === "Enter" && cardHasKeys(e.target)) {
    e.preventDefault();  // a focused answer or button does not also click itself
    const focused = e.target.closest && e.target.closest(".quiz-option");
    if (entry.revealed) goOn();
    else if (entry.picked.size) reveal(entry);
    else if (focused) pick(entry, focused.dataset.id);
  }
}

// the question moves the focus onto the card only from where the learner walked the phases
function takeFocus() {
  const a = document.activeElement;
  const walking = !a || a === document.body || card.contains(a) ||
    (a.closest && a.closest("#phase-next, #phase-prev, #phase-play, #quiz-toggle, #phase-strip"));
  if (walking) card.focus({preventScroll: true});
}

// ---- the view's interface ----

// hooks: nextPhase() walks one phase on; onReveal() redraws what the reveal shows
export function connect(theStore, theHooks) {
  store = theStore;
  hooks = theHooks;
  store.subscribe(onState);
}

// phase play's hold: a question on screen keeps the next phase waiting until the learner
// has answered it and goes on
export function hold(state) {
  const entry = state.quiz ? entryOf(state) : null;
  if (!entry || entry.revealed) return Promise.resolve();
  takeFocus();  // phase play stops here: the keys go to the question
  return new Promise((resolve) => waiters.push(resolve));
}

export function update(frame) {
  runId = frame.run.id;
  const s = store.get();
  if (!s.quiz) return syncHeld();
  const key = questionKey(frame);
  if (armed && frame.t === s.iteration && phaseKey(frame.phase) === s.phase) {
    armed = false;
    if (!asked.has(key)) asked.set(key, {question: makeQuestion(frame), picked: new Set(), revealed: false});
    current = key;
    const entry = asked.get(key);
    if (entry.revealed) drawn.reveal(entry, score(), false);
    else {
      drawn.ask(entry, score());
      takeFocus();
    }
  } else if (!current && !armed) drawn.idle(score());
  return syncHeld();
}

export function render(element, frame) {
  card = element;
  card.tabIndex = -1;
  card.setAttribute("role", "region");
  card.setAttribute("aria-label", "predict, then reveal");
  drawn = createCard(card, {
    onPick: (id) => { const entry = currentEntry(); if (entry) pick(entry, id); },
    onGo: () => {
      const entry = currentEntry();
      if (entry && entry.revealed) goOn();
      else if (entry) reveal(entry);
    }});
  document.addEventListener("keydown", onKey);
  // the first frame of a page opened with quiz=1 asks, as an arrival does
  if (store.get().quiz) armed = true;
  drawn.idle(score());
  return update(frame);
}
