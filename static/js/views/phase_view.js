// the phase banner: what the current phase reads and what it writes, in course notation.
import {phaseSentence} from "../phases.js";
import {activeBug} from "../run_status.js";

let container = null;

export function update(frame) {
  const {phase, run} = frame;
  // a bug that changes no number of this run (engine.mistakes.bug_active) trains as the
  // correct code: the banner says what that reads
  container.textContent = phaseSentence(phase, run.L, {...run.config, bug: activeBug(run)});
  return null;
}

export function render(element, frame) {
  container = element;
  return update(frame);
}
