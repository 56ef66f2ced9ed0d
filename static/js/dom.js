// writes to the page that happen on every frame of playback: each one only when the value
// changes, since any write to the DOM makes the browser lay the page out again
const shownHTML = new WeakMap();  // element -> the HTML string it was last given

export function setText(el, text) {
  if (el.textContent === text) return;
  el.textContent = text;
  shownHTML.delete(el);  // setHTML must write again: what it last gave is gone
}

// a number in scientific notation ("1.5e-7"; a capture: split keeps it)
const SCIENTIFIC = /(\d+(?:\.\d+)?e[-−+]?\d+)/;

// text whose numbers in scientific notation stay whole: a line broke after their "e-"
// ("1.5e-" / "7" reads as two numbers). the same text, each such number in a span.num
// (lens.css: nowrap); as characters, never as HTML
export function setWholeNumbers(el, text) {
  if (el.textContent === text) return;
  el.replaceChildren(...String(text).split(SCIENTIFIC).map((part, k) => {
    if (k % 2 === 0) return part;
    const number = document.createElement("span");
    number.className = "num";
    number.textContent = part;
    return number;
  }));
  shownHTML.delete(el);
}

// the HTML of a number formatted here ("5.92e-4", "0.31"; no markup in it) that stays
// whole, as setWholeNumbers keeps it
export const wholeNumberHTML = (number) => (SCIENTIFIC.test(number) ? `<span class="num">${number}</span>` : number);

export function setHTML(el, html) {
  if (shownHTML.get(el) !== html) {
    el.innerHTML = html;
    shownHTML.set(el, html);
  }
}

// a phone's width, as the style sheets' breakpoint (max-width: 600px) says it
export const isPhone = () => window.matchMedia("(max-width: 600px)").matches;

// whether the page shows the presenter layout (main.js sets the class from the state)
export const isPresenter = () => document.documentElement.classList.contains("presenter");

const shownStyle = new WeakMap();  // element -> {property: the value it was last given}

// (the browser reads a style back normalized, "#fff" as "rgb(255, 255, 255)": compare
// with what was written instead)
export function setStyle(el, property, value) {
  if (!shownStyle.has(el)) shownStyle.set(el, {});
  const shown = shownStyle.get(el);
  if (shown[property] !== value) {
    el.style[property] = value;
    shown[property] = value;
  }
}
