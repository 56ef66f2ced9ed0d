// where an arrow key moves the focus among a row or list of buttons (a plot's tools, the
// lessons menu): back with ← or ↑, on with → or ↓ (or only the ones in `moves`), Home and
// End to the ends. a key with a modifier is not one of them: Alt+← is the browser's Back,
// Shift+← the page's previous phase.
const MOVES = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};

// the index to focus of n buttons from the focused one's k (-1: none of them), or null
export function arrowTarget(e, k, n, {wrap = false, moves = MOVES} = {}) {
  if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || !n) return null;
  if (e.key === "Home") return 0;
  if (e.key === "End") return n - 1;
  const step = moves[e.key];
  if (step === undefined) return null;
  return wrap ? (k + step + n) % n : Math.min(n - 1, Math.max(0, k + step));
}
