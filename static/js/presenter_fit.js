// the presenter layout fills the window: the cache inspector's heatmaps take the height its
// words leave them, so that a projector shows the whole panel, its key included, whatever
// stands above it (an alert of divergence, three rows of controls at 1024 px) and whatever
// the phase has to say. The CSS gives the heatmaps a height from the window's
// (lens.css); here they shrink from it, each row of them by its share of the overflow.

const MIN_HEAT = 28;  // px: a heatmap lower than this no longer reads as rows of cells
const LOW_HEAT = 40;  // px: lower, a vector's colour bar keeps its two ends, not its 0

// how far the panel's last line (its key) reaches below the panel's box; the formula,
// which opens over the cells, does not count
function overflow(panel, last) {
  const box = panel.getBoundingClientRect(), bottom = last.getBoundingClientRect().bottom;
  const below = parseFloat(getComputedStyle(last).marginBottom) + parseFloat(getComputedStyle(panel).paddingBottom);
  return Math.ceil(bottom + (below || 0) - box.bottom);
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
  view.classList.remove("low-heat");
  if (!document.documentElement.classList.contains("presenter")) return;
  // a row's labels may wrap once its heatmaps are lower: measure again, a few times
  for (let k = 0; k < 4; k++) {
    const over = overflow(panel, last), {rows, height} = heatmapRows(view);
    if (over <= 0 || !rows) return;
    const next = Math.max(MIN_HEAT, Math.floor(height - over / rows));
    if (next >= height) return;
    view.style.setProperty("--heat-h", `${next}px`);
    view.classList.toggle("low-heat", next < LOW_HEAT);
  }
}

// keeps the inspector's heatmaps fitted while the page shows `panel` in the presenter
// layout: when the panel's box changes (the window, an alert above) or its content does (a
// phase's words, the myth card closed)
export function fitPresenter(panel) {
  const view = panel.querySelector(".cache-view"), last = panel.querySelector(".legend");
  const observer = new ResizeObserver(() => fit(panel, view, last));
  for (const element of [panel, ...panel.children]) observer.observe(element);
}
