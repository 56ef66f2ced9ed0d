// the presenter layout fills the window: the cache inspector's heatmaps take the height its
// words leave them, so that a projector shows the whole panel, its key included, whatever
// stands above it (an alert, a lesson's strip, three rows of controls at 1024 px) and
// whatever the phase has to say, down to a height the room can still read. The CSS gives
// the heatmaps a height from the window's (lens.css); here they shrink from it, each row
// of them by its share of the overflow.

import {isPresenter} from "./dom.js";

// px: lower, a heatmap no longer reads from the back of a room (nor a vector's colour bar,
// its three numbers): below it the panel scrolls, its key last
const MIN_HEAT = 40;

// how far the panel's last line (its key) reaches below the panel's box, the part of the
// panel scrolled away included; the formula, which opens over the cells, does not count
function overflow(panel, last) {
  const box = panel.getBoundingClientRect(), bottom = last.getBoundingClientRect().bottom;
  const below = parseFloat(getComputedStyle(last).marginBottom) + parseFloat(getComputedStyle(panel).paddingBottom);
  return Math.ceil(bottom + panel.scrollTop + (below || 0) - box.bottom);
}

// the rows of heatmaps on show: boxes whose tops lie within one box's height of each other
function heatmapRows(view) {
  const tops = [...view.querySelectorAll(".heatmap-box")].filter((b) => b.offsetParent)
    .map((b) => b.getBoundingClientRect()).sort((a, b) => a.top - b.top);
  let rows = 0, rowTop = -Infinity;
  for (const box of tops) {
    if (box.top >= rowTop + box.height) { rows += 1; rowTop = box.top; }
  }
  return {rows, height: tops.length ? tops[0].height : 0};
}

function fit(panel, view, last) {
  view.style.removeProperty("--heat-h");
  view.classList.remove("tight");
  if (!isPresenter()) return;
  // a row's labels may wrap once its heatmaps are lower: measure again, a few times
  for (let k = 0; k < 4; k++) {
    const over = overflow(panel, last), {rows, height} = heatmapRows(view);
    if (over <= 0 || !rows) return;
    const next = Math.max(MIN_HEAT, Math.floor(height - over / rows));
    if (next >= height) break;
    view.style.setProperty("--heat-h", `${next}px`);
  }
  // the heatmaps at their least, and the key still below the panel (a myth card, a long
  // lesson stop above): the sentence of what the phase reads goes, which the phase banner
  // at the top of the page says too
  if (overflow(panel, last) > 0) view.classList.add("tight");
}

// keeps the inspector's heatmaps fitted while the page shows `panel` in the presenter
// layout, and returns the fit for the page to call once a step has drawn. The panel's box
// (the window, an alert or a lesson's strip above) is fitted at once: its children are
// deeper than it, so a ResizeObserver delivers what the fit changes in them. A change of
// its children alone (a card closed) waits for the next frame: fitting them from their own
// notification would leave one undelivered, a page error ("ResizeObserver loop").
export function fitPresenter(panel) {
  const view = panel.querySelector(".cache-view"), last = panel.querySelector(".legend");
  const now = () => fit(panel, view, last);
  let queued = false;
  const soon = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; now(); });
  };
  new ResizeObserver(now).observe(panel);
  const children = new ResizeObserver(soon);
  for (const element of panel.children) children.observe(element);
  return now;
}
