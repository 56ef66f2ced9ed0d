// each figure's Plotly mode bar as one tab stop: a toolbar (the WAI-ARIA pattern) whose
// buttons the arrow keys, Home and End walk. as plain buttons, a page's mode bars had put
// about 50 stops between the controls and the next view for a keyboard user.

import {arrowTarget} from "./arrow_keys.js";

// Plotly may build a figure's buttons again on any redraw: call after each one
export function toolbarKeys(container) {
  const bar = container.querySelector(".modebar");
  if (!bar) return;
  if (!bar.dataset.walked) {  // (Plotly's bar has role="toolbar"; the keys are ours)
    bar.dataset.walked = "arrows";
    bar.setAttribute("aria-label", "plot tools: arrow keys choose a tool");
    bar.addEventListener("keydown", (e) => walk(e, bar));
  }
  const buttons = buttonsOf(bar), stops = buttons.filter((b) => b.tabIndex === 0);
  // the button last walked to keeps the stop; new buttons all have tabIndex 0
  const current = stops.length === 1 ? stops[0] : buttons[0];
  for (const b of buttons) b.tabIndex = b === current ? 0 : -1;
}

const buttonsOf = (bar) => [...bar.querySelectorAll(".modebar-btn")];

function walk(e, bar) {
  const buttons = buttonsOf(bar), k = buttons.indexOf(document.activeElement);
  const to = k < 0 ? null : arrowTarget(e, k, buttons.length, {wrap: true});
  if (to === null) return;
  // the page's own arrow keys change the iteration: not while walking a toolbar
  e.preventDefault();
  e.stopPropagation();
  for (const b of buttons) b.tabIndex = b === buttons[to] ? 0 : -1;
  buttons[to].focus();
}
