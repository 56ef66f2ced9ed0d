"""Accessibility, measured in the page: every input has a label, every plot a text
alternative that follows the step, text contrast is at least 4.5:1, and the keyboard focus
is always visible."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PAGE_PLOTS, PLOTS, open_page, redraws, wait_redrawn

DEEP_SIGMOID = ("?hidden_layers=8,8,8,8,8"
                "&activations=sigmoid,sigmoid,sigmoid,sigmoid,sigmoid,sigmoid")

# the accessible name from a <label>, aria-labelledby or aria-label; a title is only a
# tooltip, which touch screens and many screen readers never show
UNLABELLED = """() => {
  const text = (e) => (e ? e.textContent.trim() : "");
  const byIds = (el) => (el.getAttribute('aria-labelledby') || '').split(/\\s+/)
    .map(id => text(document.getElementById(id))).join('');
  const named = (el) => (el.getAttribute('aria-label') || '').trim() || byIds(el) ||
    [...(el.labels || [])].map(text).join('');
  return [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden' && !named(el))
    .map(el => el.outerHTML.slice(0, 120));
}"""


@pytest.mark.parametrize("query", ["", DEEP_SIGMOID], ids=["default", "deep"])
def test_every_input_has_a_label(page, server, query):
    open_page(page, server, query)
    page.locator("#configure summary").click()  # the run form, activation selects and all
    expect(page.locator("#form-fields select[name^=activation]").first).to_be_visible()
    assert page.evaluate(UNLABELLED) == []


# the text alternative of a view's Plotly figure (the view itself, or inside it; the
# distributions' four figures are one picture: the view)
PLOT_TEXT = """(view) => {
  const plot = view.matches('.js-plotly-plot, [role=img]') ? view
    : view.querySelector('.js-plotly-plot');
  if (!plot) return null;
  const by = (plot.getAttribute('aria-labelledby') || '').split(/\\s+/)
    .map(id => (document.getElementById(id) || {}).textContent || '').join(' ');
  return {role: plot.getAttribute('role'),
          text: ((plot.getAttribute('aria-label') || '') + by).trim()};
}"""
# waits until the text differs from `old`
PLOT_TEXT_CHANGED = f"""(view, old) => new Promise((done, fail) => {{
  const started = Date.now();
  (function poll() {{
    const now = ({PLOT_TEXT})(view);
    if (now && now.text !== old) return done();
    if (Date.now() - started > 8000) return fail(new Error('unchanged: ' + old));
    setTimeout(poll, 100);
  }})();
}})"""
# the views drawn with Plotly (the cache inspector's heatmaps are canvases, each labelled)
PLOT_VIEWS = ["view-loss", "view-gradient-flow", "view-distributions", "gradcheck",
              "view-network", "view-boundary"]


@pytest.mark.parametrize("test_id", PLOT_VIEWS)
def test_every_plot_says_its_gist_and_follows_the_step(page, server, test_id):
    open_page(page, server, "?it=3")
    view = page.get_by_test_id(test_id)
    if test_id == "gradcheck":  # drawn once the step rests and the check answers
        view.locator(PLOTS).wait_for()
    first = view.evaluate(PLOT_TEXT)
    assert first and first["role"] in ("img", "figure") and len(first["text"]) > 20, first
    assert "iteration 3" in first["text"].lower(), first
    before = redraws(page)
    page.get_by_test_id("step-slider").fill("150")
    wait_redrawn(page, before)
    view.evaluate(PLOT_TEXT_CHANGED, first["text"])
    assert "iteration 150" in view.evaluate(PLOT_TEXT)["text"].lower()


# colours as [r, g, b, alpha] and the WCAG 2.x contrast ratio of two opaque colours
COLOUR_JS = """
  const rgba = (s) => { const m = (s || '').match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const [r, g, b, a] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [r, g, b, a === undefined ? 1 : a]; };
  const over = (fg, bg) => [0, 1, 2].map(i => fg[i] * fg[3] + bg[i] * (1 - fg[3])).concat(1);
  const lum = (c) => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
"""
# every visible text against what is behind it, opacity included: HTML text against its
# ancestors' backgrounds, Plotly's SVG text against the white paper it is drawn on
CONTRAST = """() => {""" + COLOUR_JS + """
  const opacity = (el) => { let o = 1;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      o *= Number(getComputedStyle(e).opacity); }
    return o; };
  const background = (el) => { const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    return layers.reduceRight((bg, c) => over(c, bg), [255, 255, 255, 1]); };
  const visible = (el) => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('[hidden]'); };
  const bad = [];
  const check = (el, fg, bg, what) => { const k = ratio(over(fg, bg), bg);
    const words = el.textContent.trim().slice(0, 60);
    if (k < 4.5) bad.push(`${what} ${k.toFixed(2)}: ${words} (${fg} on ${bg})`); };
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') || el.matches(':disabled') || !visible(el)) continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const fg = rgba(getComputedStyle(el).color);
    fg[3] *= opacity(el);
    check(el, fg, background(el), el.tagName.toLowerCase() + '.' + el.className);
  }
  for (const t of document.querySelectorAll('.js-plotly-plot svg text')) {
    if (!t.textContent.trim() || !visible(t)) continue;
    const s = getComputedStyle(t), fg = rgba(s.fill);
    if (!fg) continue;
    fg[3] *= Number(s.fillOpacity) * opacity(t);
    check(t, fg, [255, 255, 255, 1], 'svg text in ' + t.closest('[data-testid]').dataset.testid);
  }
  return bad;
}"""
# (query, what is opened first): the forward phase fades what is not computed yet; the
# backward phase frames what it reads; the run form and the keys help have their own text
CONTRAST_STATES = [("", None), ("?it=5&phase=backward-2&layer=2", None),
                   ("?keep_prob=0.8&phase=cost&layer=3", "#configure summary"),
                   ("", "#keys-toggle"), ("?layout=presenter", None)]


@pytest.mark.parametrize(("query", "opened"), CONTRAST_STATES,
                         ids=["forward", "backward", "form", "keys", "presenter"])
def test_text_contrast_is_at_least_4_5(page, server, query, opened):
    open_page(page, server, query, plots=1 if "presenter" in query else PAGE_PLOTS)
    if opened:
        page.locator(opened).click()
    assert page.evaluate(CONTRAST) == []


def test_the_plot_themes_text_colours_are_readable(page, server):
    """What Plotly draws in SVG uses the theme's text colours, each 4.5:1 on white."""
    open_page(page, server)
    ratios = page.evaluate("""async () => {
      const theme = await import('/static/js/plot_theme.js');
      const hex = (h) => [1, 3, 5].map(i => parseInt(h.slice(i, i + 2), 16)).concat(1);
      """ + COLOUR_JS + """
      return Object.fromEntries(Object.entries(theme.TEXT)
        .map(([k, h]) => [k, ratio(hex(h), [255, 255, 255, 1])]));
    }""")
    assert {"ink", "muted", "pending"} <= set(ratios)
    assert min(ratios.values()) >= 4.5, ratios


# the outline of the focused element: solid, at least 2 px, and 3:1 against what is
# behind the ring (the nearest opaque ancestor whose box holds it), so it shows on the
# white page and on the dark header alike; or a box-shadow ring
FOCUS_RING = """() => {""" + COLOUR_JS + """
  const el = document.activeElement, s = getComputedStyle(el), r = el.getBoundingClientRect();
  const grow = parseFloat(s.outlineOffset) + parseFloat(s.outlineWidth);
  const holds = (q) => q.left <= r.left - grow && q.right >= r.right + grow &&
    q.top <= r.top - grow && q.bottom >= r.bottom + grow;
  let bg = [255, 255, 255, 1];
  for (let e = el.parentElement; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c && c[3] > 0.5 && holds(e.getBoundingClientRect())) { bg = c; break; } }
  const solid = s.outlineStyle !== 'none' && s.outlineStyle !== 'auto';
  const ring = solid ? rgba(s.outlineColor) : null;
  const name = el.getAttribute('aria-label') || el.textContent.trim().slice(0, 20);
  return {what: el.id || el.dataset.testid || el.tagName + ':' + name,
    style: s.outlineStyle, width: parseFloat(s.outlineWidth), shadow: s.boxShadow,
    contrast: ring ? ratio(ring, bg) : 0};
}"""


def test_focus_is_always_visible(page, server):
    open_page(page, server)
    page.locator("#configure summary").click()
    page.locator("body").click(position={"x": 5, "y": 5})
    seen, weak = set(), []
    for _ in range(70):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring["what"] in seen:
            continue
        seen.add(ring["what"])
        ringed = ring["width"] >= 2 and ring["contrast"] >= 3
        if not (ringed or ring["shadow"] not in ("", "none")):
            weak.append(ring)
    assert len(seen) > 30  # the header, the run form, the controls and the panels
    assert weak == [], sorted(seen)
