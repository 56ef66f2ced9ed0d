// the quiz's card: a head (title, keys, score), the prompt with its answers and one button
// (check, then go on), and an area that holds the question's context, then its reveal. it
// only draws what quiz.js built and the view (quiz_view.js) decided; a click on an answer
// or the button goes back to the view through onPick(id) and onGo().
import {setText} from "../dom.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// head: title, the keys, score; ask: the prompt, its answers and the button that checks,
// then goes on; area: the question's context, then its reveal
function skeleton(card) {
  const row = (className, ...children) => { const r = el("div", className); r.append(...children); return r; };
  const p = {title: el("span", "quiz-title"), score: el("span", "quiz-score"), prompt: el("span", "quiz-prompt"),
    options: el("span", "quiz-options"), area: el("div", "quiz-area"), hint: el("span", "quiz-hint"),
    go: el("button", "quiz-go")};
  p.score.dataset.testid = "quiz-score";
  p.options.setAttribute("role", "group");
  p.options.setAttribute("aria-label", "answers");
  p.area.setAttribute("aria-live", "polite");
  p.go.type = "button";
  card.replaceChildren(row("quiz-head", p.title, p.hint, p.score), row("quiz-ask", p.prompt, p.options, p.go), p.area);
  return p;
}

function optionButton(entry, option, k, onPick) {
  const b = el("button", "quiz-option");
  b.type = "button";
  b.dataset.id = option.id;
  b.append(el("kbd", "", String(k + 1)), el("span", "", option.label));
  b.setAttribute("aria-pressed", String(entry.picked.has(option.id)));
  if (entry.revealed) b.dataset.mark = option.right === null ? "either" : option.right ? "right" : entry.picked.has(option.id) ? "wrong" : "";
  b.disabled = entry.revealed;
  b.addEventListener("click", () => onPick(option.id));
  return b;
}

// the served numbers: a row per tensor, the first names them; the columns where dZ is 0 marked
function evidenceTable({caption, rows, zero}) {
  const table = el("table", "quiz-evidence");
  table.setAttribute("aria-label", caption);
  table.append(...rows.map((cells, r) => {
    const tr = el("tr");
    cells.forEach((c, k) => {
      const cell = el(k === 0 || r === 0 ? "th" : "td", "", c);
      if (k > 0 && zero[k - 1]) cell.className = "zero";
      tr.append(cell);
    });
    return tr;
  }));
  return table;
}

// the verdict and the first line of why, then what each wrong or missed answer is, the
// rest of why and the served numbers
function revealLines(q, v) {
  const verdict = el("p", "quiz-why");
  verdict.append(el("b", "quiz-verdict", v.right ? "✓ Right. " : "✗ Not quite. "), q.why[0]);
  const lines = [verdict];
  const status = (o) => (q.kind !== "reads" ? "" : o.right === null ? " counts either way" : o.right ? " is read" : " is not read");
  // one answer: the wrong pick says what it is; several: each wrong or missed one says why
  const noted = q.multi ? [...v.wrongPicks, ...v.missed, ...q.options.filter((o) => o.right === null)] : v.wrongPicks;
  // (reads: the wrong picks say it already; the "not read" line is for a right answer)
  const rest = q.kind === "reads" && !v.right ? [] : q.why.slice(1);
  const name = (o) => (q.multi ? `${o.label}${status(o)}` : `Your answer, ${o.label}`);
  for (const o of noted) if (o.note) lines.push(el("p", "quiz-note", `${name(o)}: ${o.note}`));
  rest.forEach((line) => lines.push(el("p", "quiz-why", line)));
  if (q.evidence) lines.push(evidenceTable(q.evidence));
  return lines;
}

export function createCard(card, {onPick, onGo}) {
  const parts = skeleton(card);
  parts.go.addEventListener("click", onGo);
  const head = (state, kind, title, score) => {
    card.dataset.state = state;
    if (kind) card.dataset.kind = kind;
    else delete card.dataset.kind;
    setText(parts.title, title);
    setText(parts.score, score);
  };
  const answers = (entry) => parts.options.replaceChildren(...entry.question.options.map((o, k) => optionButton(entry, o, k, onPick)));
  const button = (text, disabled) => {
    parts.go.hidden = text === null;
    parts.go.textContent = text || "";
    parts.go.disabled = disabled;
  };
  return {
    idle(score) {
      head("idle", null, "Predict, then reveal", score);
      setText(parts.prompt, "");
      parts.options.replaceChildren();
      parts.area.replaceChildren(el("p", "quiz-context", "Walk the phases (phase ▶, Shift+→ or ↓) or play them (P): " +
        "each phase asks one question about its structure before it shows its result."));
      parts.hint.textContent = "";
      button(null, true);
    },
    ask(entry, score) {
      const q = entry.question, n = q.options.length;
      head("asking", q.kind, `Predict · ${q.title}`, score);
      setText(parts.prompt, q.prompt);
      answers(entry);
      parts.area.replaceChildren(el("p", "quiz-context", q.context));
      parts.hint.textContent = q.multi ? `1–${n} or click: pick all that apply · Enter checks` : `1–${n} or click to pick · Enter checks`;
      button("Check ⏎", entry.picked.size === 0);
    },
    // playing: phase play waits for this reveal, and Enter plays on
    reveal(entry, score, playing) {
      const q = entry.question;
      head(entry.verdict.right ? "right" : "wrong", q.kind, `Reveal · ${q.title}`, score);
      setText(parts.prompt, q.prompt);
      answers(entry);
      parts.area.replaceChildren(...revealLines(q, entry.verdict));
      parts.area.scrollTop = 0;
      parts.hint.textContent = playing ? "Enter: play on" : "Enter or Shift+→: next phase";
      button(playing ? "Play on ▶" : "Next phase ▶", false);
    },
    focusButton: () => parts.go.focus({preventScroll: true}),
  };
}
