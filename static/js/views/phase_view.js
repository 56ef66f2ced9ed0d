// the phase banner: what the current phase reads and what it writes, in course notation.
import {phaseSentence} from "../phases.js";

let container = null;

export function update(frame) {
  const {phase, run} = frame;
  container.textContent = phaseSentence(phase, run.L, run.config);
  return null;
}

export function render(element, frame) {
  container = element;
  return update(frame);
}
