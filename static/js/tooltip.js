// one floating tooltip for views whose pictures are images: they say what is under the mouse.

let tip = null;

function element() {
  if (!tip) {
    tip = document.createElement("div");
    tip.className = "tooltip";
    tip.setAttribute("role", "tooltip");
    tip.hidden = true;
    document.body.append(tip);
  }
  return tip;
}

export function showTip(event, text) {
  const el = element();
  if (!text) { el.hidden = true; return; }
  el.textContent = text;
  el.hidden = false;
  const x = Math.min(event.clientX + 14, window.innerWidth - el.offsetWidth - 8);
  const y = event.clientY + 16 + el.offsetHeight > window.innerHeight ? event.clientY - el.offsetHeight - 8 : event.clientY + 16;
  el.style.left = `${x}px`;
  el.style.top = `${y}px`;
}

export function hideTip() {
  if (tip) tip.hidden = true;
}

// the mouse position in paper coordinates (0..1, y up) of a Plotly figure
export function paperPoint(gd, event) {
  const size = gd._fullLayout && gd._fullLayout._size;  // the plot area Plotly laid out
  if (!size) return null;
  const box = gd.getBoundingClientRect();
  return {x: (event.clientX - box.left - size.l) / size.w, y: 1 - (event.clientY - box.top - size.t) / size.h};
}

// attach hover (text or null for the point) and click handlers to a figure; onClick gets
// the paper point and the mouse event (where on screen the learner is looking)
export function pointAt(gd, describe, onClick) {
  gd.addEventListener("mousemove", (e) => {
    const p = paperPoint(gd, e);
    showTip(e, p && describe(p));
  });
  gd.addEventListener("mouseleave", hideTip);
  // Plotly's drag layer swallows "click" (it covers the page while a button is down),
  // so a press picks the point
  if (onClick) {
    gd.addEventListener("mousedown", (e) => {
      const p = e.button === 0 && paperPoint(gd, e);
      if (p) onClick(p, e);
    });
  }
}
