// the lessons menu (CONTRACT §5 `lessons`): a disclosure button in the header (in the
// controls' bar in the presenter layout) and a list of one button per lesson, by title.
// a disclosure rather than a <select>: a closed select changes its value on ↑/↓, and
// every change here trains a lesson's run.

import {arrowTarget} from "./arrow_keys.js";

const make = (tag, props = {}) => Object.assign(document.createElement(tag), props);

function lessonButton(lesson) {
  const button = make("button", {type: "button", className: "lesson-choice", textContent: lesson.title,
    title: lesson.summary});
  button.dataset.lesson = lesson.id;
  return make("li").appendChild(button).parentNode;
}

// while the list is open, ↓ and ↑ (Home, End) walk from the toggle through the lessons,
// and no arrow reaches the page behind it, whose arrows change the iteration and phase
const UP_DOWN = {ArrowDown: 1, ArrowUp: -1};
function walk(e, list) {
  const choices = [...list.querySelectorAll("button[data-lesson]")];
  const to = arrowTarget(e, choices.indexOf(document.activeElement), choices.length, {moves: UP_DOWN});
  const sideways = (e.key === "ArrowLeft" || e.key === "ArrowRight") && !e.altKey && !e.ctrlKey && !e.metaKey;
  if (to === null && !sideways) return;
  e.preventDefault();
  e.stopPropagation();
  if (to !== null) choices[to].focus();
}

// the open list hangs leftward from the toggle's right end (lessons.css); where that would
// cross the screen's left edge (a narrow screen where the toggle starts a line), it moves
// right, so that no title is cut and the page does not widen
const EDGE = 8;  // px kept free at the screen's edge
function keepInView(list) {
  list.style.right = "";
  list.style.maxHeight = "";
  const {left, top} = list.getBoundingClientRect();
  if (left < EDGE) list.style.right = `${left - EDGE}px`;
  // as tall as the window below it allows: at 720 px the stylesheet's 70 % cut the last
  // lesson off (a list that scrolls shows no scroll bar until it is touched)
  list.style.maxHeight = `${Math.max(160, window.innerHeight - top - EDGE)}px`;
}

// box: the `lessons` element; onChoose(id) opens a lesson. an empty list (a server without
// lessons) leaves the menu hidden
export function createLessonMenu(box, lessons, onChoose) {
  const toggle = box.querySelector("button.lessons-toggle"), list = box.querySelector("ul");
  const home = {parent: box.parentNode, next: box.nextElementSibling};  // in the header
  box.hidden = lessons.length === 0;
  list.replaceChildren(...lessons.map(lessonButton));
  const setOpen = (open) => {
    toggle.setAttribute("aria-expanded", String(open));
    list.hidden = !open;
    if (open) keepInView(list);
  };
  toggle.addEventListener("click", () => setOpen(list.hidden));
  list.addEventListener("click", (e) => {
    const choice = e.target.closest("button[data-lesson]");
    if (!choice) return;
    setOpen(false);
    onChoose(choice.dataset.lesson);
  });
  box.addEventListener("keydown", (e) => {
    if (list.hidden) return;
    if (e.key === "Escape") {
      setOpen(false);
      toggle.focus();
      return;
    }
    walk(e, list);
  });
  document.addEventListener("click", (e) => { if (!box.contains(e.target)) setOpen(false); });
  // Tab out of the open list closes it, as a click elsewhere does
  box.addEventListener("focusout", (e) => {
    if (e.relatedTarget && !box.contains(e.relatedTarget)) setOpen(false);
  });
  return {
    // the open lesson is marked in the list
    mark(id) {
      for (const b of list.querySelectorAll("button[data-lesson]")) {
        if (b.dataset.lesson === id) b.setAttribute("aria-current", "true");
        else b.removeAttribute("aria-current");
      }
    },
    focus: () => toggle.focus(),
    // the presenter layout hides the header: there the menu stands in the controls' bar,
    // after "compare" and at its row's end (lessons.css), so that a teacher changes lessons
    // without leaving the layout (after the layer and colours, it made their row taller)
    place(presenter) {
      const after = document.getElementById("compare-toggle");
      const inBar = presenter && after !== null;
      if (inBar === (box.parentNode !== home.parent)) return;
      setOpen(false);
      if (inBar) after.after(box);
      else home.parent.insertBefore(box, home.next);
    },
  };
}
