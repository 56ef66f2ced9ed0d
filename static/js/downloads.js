// the download links of the run on screen: export.npz for a notebook and report.html for a
// course page (CONTRACT §4), at the first, the current and the last iteration, and the
// report's caches of the selected layer. plain links: the browser saves what the server sends.

// the steps an export names: first, current and last, each once, in order
export function exportSteps(iteration, numSteps) {
  return [...new Set([0, iteration, numSteps - 1])].filter((t) => t >= 0 && t < numSteps)
    .sort((a, b) => a - b);
}

export function downloadUrls(runId, iteration, numSteps, layer) {
  const base = `/api/runs/${encodeURIComponent(runId)}`, steps = exportSteps(iteration, numSteps).join(",");
  return {npz: `${base}/export.npz?steps=${steps}`, report: `${base}/report.html?steps=${steps}&layer=${layer}`};
}

// run: the run info on screen (null while none is); the links stay hidden until one is
export function updateDownloads(container, run, {iteration, layer}) {
  if (container.hidden !== !run) container.hidden = !run;
  if (!run) return;
  const urls = downloadUrls(run.id, Math.min(iteration, run.num_steps - 1), run.num_steps, Math.min(layer, run.L));
  for (const [key, url] of Object.entries(urls)) {
    const link = container.querySelector(`[data-testid="download-${key}"]`);
    if (link.getAttribute("href") !== url) link.setAttribute("href", url);
  }
}
