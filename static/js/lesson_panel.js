// the open lesson's words (CONTRACT §5 `lesson-panel`): title, summary, what to look for,
// the tour step's words with back / next and "2 / 5", and at the tour's end the question.
// lesson text is plain text from the server or a teacher's JSON file: it goes in as
// textContent only, never as HTML, so "<img onerror=…>" in a title shows as characters.
import {isPhone, isPresenter, setWholeNumbers} from "./dom.js";
import {isTextField} from "./controls.js";

const make = (tag, props = {}, testId = null) => {
  const el = Object.assign(document.createElement(tag), props);
  if (testId) el.dataset.testid = testId;
  return el;
};

// the panel's fixed parts, filled by show()
function build(aside) {
  const parts = {
    title: make("h2", {className: "lesson-title", id: "lesson-title", tabIndex: -1}),
    close: make("button", {type: "button", className: "lesson-close", textContent: "×"}, "lesson-close"),
    summary: make("p", {className: "lesson-summary"}),
    runs: make("p", {className: "lesson-runs muted"}),
    look: make("ul", {className: "lesson-look"}),
    say: make("p", {className: "lesson-say"}, "lesson-say"),
    prev: make("button", {type: "button", textContent: "◀ back"}, "lesson-prev"),
    count: make("span", {className: "lesson-count"}, "lesson-count"),
    next: make("button", {type: "button", textContent: "next ▶"}, "lesson-next"),
    question: make("p", {className: "lesson-question", tabIndex: -1}, "lesson-question"),
    away: make("p", {className: "lesson-away", hidden: true}, "lesson-away"),
    toCompare: make("button", {type: "button", className: "lesson-to-compare", textContent: "↓ the two runs"},
      "lesson-to-compare"),
    back: make("button", {type: "button", textContent: "back to this step"}, "lesson-return"),
  };
  parts.away.append(make("span", {textContent: "The views have moved on from this step: its words describe its own view. "}),
    parts.back);
  parts.close.setAttribute("aria-label", "close the lesson");
  parts.prev.setAttribute("aria-label", "previous step of the lesson");
  parts.next.setAttribute("aria-label", "next step of the lesson");
  parts.toCompare.title = "the lesson's second run, side by side with this one";
  parts.say.setAttribute("aria-live", "polite");
  const head = make("div", {className: "lesson-head"});
  head.append(make("p", {className: "lesson-kicker", textContent: "Lesson"}), parts.title, parts.close);
  const nav = make("div", {className: "lesson-nav"});
  nav.append(parts.prev, parts.count, parts.next, parts.toCompare);
  const tour = make("div", {className: "lesson-tour"});
  tour.append(parts.say, parts.away, nav, parts.question);
  aside.setAttribute("aria-labelledby", "lesson-title");
  parts.panel = aside;
  // the tour's words and buttons under the title, the intro after them: in large text at
  // 720 px the intro pushed "next" below the screen before the tour had begun
  aside.replaceChildren(head, tour, parts.summary, parts.runs,
    make("h3", {textContent: "Look for"}), parts.look);
  return parts;
}

// "you see: with the bug · beside it: correct code", for a lesson that compares two runs
function runsText(lesson) {
  if (!lesson.compare) return "";
  return `This run: ${lesson.label || "the lesson's run"} · beside it: ${lesson.compare.label || "the other run"}`;
}

// an element of lesson text whose numbers in scientific notation stay whole (dom.js)
function withNumbers(tag, text) {
  const el = make(tag);
  setWholeNumbers(el, text);
  return el;
}

// the words of tour step n; at 0 (the lesson's own view) what the tour is
const sayText = (lesson, n, steps = lesson.tour.length) => (n > 0 ? lesson.tour[n - 1].say
  : `A tour of ${steps} step${steps === 1 ? "" : "s"}: “next” moves the views to each one.`);

// n: the tour step, 0 (the lesson's own view) to N
function fill(parts, lesson, n) {
  const steps = lesson.tour.length, last = n >= steps;
  parts.title.textContent = lesson.title;
  setWholeNumbers(parts.summary, lesson.summary);
  parts.runs.textContent = runsText(lesson);
  parts.runs.hidden = !lesson.compare;
  parts.look.replaceChildren(...lesson.look_for.map((line) => withNumbers("li", line)));
  setWholeNumbers(parts.say, steps ? sayText(lesson, n) : "");
  parts.count.textContent = steps ? `${n} / ${steps}` : "";
  parts.prev.disabled = n <= 0;
  parts.next.disabled = last;
  parts.question.replaceChildren(make("strong", {textContent: "Question: "}),
    withNumbers("span", lesson.question));
  parts.question.hidden = !last;
  // past its first step the panel keeps only the step's words, its buttons and the
  // question (lessons.css): on a phone the views stay in sight, at 720 px all of it
  parts.panel.classList.toggle("touring", n > 0);
}

// what changes with the views: whether they have moved off the step (its words stand
// back), and whether a second run is open (the lesson's, below the views: its steps speak
// of it). the step's words are not written again: they are a live region
function mark(parts, away, compared) {
  parts.away.hidden = !away;
  parts.say.classList.toggle("stale", away);
  parts.toCompare.hidden = !compared;
}

// a phone stacks the panel above the views: a step brings the panel up under the sticky
// bar, so that the views it moved stand in sight below it rather than off screen. the
// presenter layout scrolls the views in their own box (down to a second run, "↓ the two
// runs"): a step that moves the network and the inspector brings them back into sight
function bringUp(aside, moved) {
  const views = document.querySelector(".views");
  if (moved && isPresenter() && views) views.scrollTop = 0;
  if (!isPhone()) return;
  const bar = document.querySelector(".controls");
  const under = () => aside.getBoundingClientRect().top - (bar ? bar.getBoundingClientRect().bottom : 0) - 4;
  requestAnimationFrame(() => {
    window.scrollTo({top: Math.max(0, window.scrollY + under()), behavior: "instant"});
    // the bar may grow once the step's phase has redrawn its words: not over the panel
    setTimeout(() => { if (!aside.hidden && under() < 0) window.scrollBy({top: under(), behavior: "instant"}); }, 400);
  });
}

const PAGE_KEYS = {PageDown: 1, PageUp: -1};

// actions: {walk(delta), which says whether the views moved, close()}. show(lesson, n,
// away, compared) opens the panel at tour step n (0 to N), saying so if the views have
// moved away from it, with a way down to the second run if one is open; show(null) hides
// it; onToggle(open) hears when the panel appears or goes
export function createLessonPanel(aside, actions, onToggle) {
  const parts = build(aside);
  let shown = {lesson: null, n: 0};  // what fill wrote last
  // a button that goes disabled under the focus drops it to the page (before the step's
  // listeners could see where it was): at the tour's end the question, shown there, takes
  // it (read out, and Enter pressed again does not walk back); at its start "next"
  const step = (delta) => {
    const focused = document.activeElement;
    const moved = actions.walk(delta);
    if (focused === parts.next && parts.next.disabled) parts.question.focus({preventScroll: true});
    if (focused === parts.prev && parts.prev.disabled) parts.next.focus();
    bringUp(aside, moved);
  };
  parts.prev.addEventListener("click", () => step(-1));
  parts.next.addEventListener("click", () => step(1));
  parts.close.addEventListener("click", () => actions.close());
  parts.toCompare.addEventListener("click", () => {
    const panel = document.getElementById("view-compare");
    panel.scrollIntoView({block: "start", behavior: "instant"});
    panel.querySelector("h2").focus({preventScroll: true});
  });
  parts.back.addEventListener("click", () => {
    actions.walk(0);
    // the button goes with the note
    (parts.next.disabled ? parts.question : parts.next).focus({preventScroll: true});
  });
  aside.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); actions.close(); }
  });
  // a presenter's clicker sends Page Down and Page Up: in the presenter layout, whose page
  // does not scroll, they walk the open lesson's tour
  document.addEventListener("keydown", (e) => {
    const delta = PAGE_KEYS[e.key];
    if (!delta || aside.hidden || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (!isPresenter() || isTextField(e.target)) return;
    const menu = e.target.closest && e.target.closest(".lessons");
    if (menu && !menu.querySelector("ul").hidden) return;  // the open menu's own
    e.preventDefault();
    if (!(delta > 0 ? parts.next : parts.prev).disabled) step(delta);
  });
  return {
    show(lesson, n, away = false, compared = false) {
      const wasOpen = !aside.hidden;
      if (lesson && (lesson !== shown.lesson || n !== shown.n)) fill(parts, lesson, n);
      shown = {lesson, n};
      if (lesson) mark(parts, away, compared && Boolean(lesson.compare));
      aside.hidden = !lesson;
      aside.dataset.lesson = lesson ? lesson.id : "";
      if (wasOpen !== Boolean(lesson)) onToggle(Boolean(lesson));
    },
    focus: () => parts.title.focus(),
  };
}
