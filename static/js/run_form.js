// the run form, built from GET /api/options: every config field with its limits. the
// browser does not validate (novalidate): the server's 422 names the field, and the page
// shows it in the alert.
import {configOverrides} from "./state.js";
import {mistakeName} from "./run_status.js";

// [field, label, kind, note]; kind picks the input
const FIELDS = [
  ["dataset", "dataset", "dataset"], ["n_samples", "samples", "number", "ignored by real data"],
  ["noise", "noise", "number", "blank: the dataset's default"], ["test_fraction", "test fraction", "number"],
  ["hidden_layers", "hidden layer widths", "layers", "comma separated, e.g. 8, 8; blank: none"],
  ["activations", "activation per layer", "activations"], ["loss", "loss", "choice:losses"],
  ["init", "initialization", "choice:inits"], ["optimizer", "optimizer", "choice:optimizers"],
  ["beta", "β (momentum)", "number"], ["beta1", "β₁ (adam)", "number"], ["beta2", "β₂", "number"],
  ["epsilon", "ε", "number"], ["learning_rate", "learning rate α", "number"],
  ["batch_size", "batch size", "number", "blank: full batch"], ["l2", "L2 λ", "number"],
  ["keep_prob", "keep_prob (dropout)", "number", "1: no dropout"], ["steps", "iterations", "number"],
  ["seed", "seed", "number"], ["bug", "classic mistake", "bug", "none: the course's correct code"],
];
const HYPER = ["beta", "beta1", "beta2", "epsilon"];

// the form's label of a config field, where it differs from the field's name ("iterations")
export function formLabel(field) {
  const row = FIELDS.find(([name]) => name === field);
  return row && row[1] !== field ? row[1] : null;
}

function limitText(limit) {
  if (!limit) return "";
  if (limit.max_layers) return `up to ${limit.max_layers} layers, widths ${limit.min_width}–${limit.max_width}`;
  const low = limit.min_exclusive ? `> ${limit.min}` : `≥ ${limit.min}`;
  return limit.max === null || limit.max === undefined ? low : `${low}, ≤ ${limit.max}`;
}

// a select of `names`, each shown as label(name)
function select(names, value, label = (name) => name) {
  const el = document.createElement("select");
  for (const name of names) el.add(new Option(label(name), name, false, name === value));
  return el;
}

function activationSelects(box, options, count, values) {
  const hidden = options.activations.filter((a) => !options.output_only_activations.includes(a));
  box.replaceChildren(...[...Array(count).keys()].map((k) => {
    const el = select(k === count - 1 ? options.activations : hidden, values[k] || "relu");
    el.name = `activation-${k + 1}`;
    el.title = k === count - 1 ? `output layer ${k + 1}` : `hidden layer ${k + 1}`;
    el.setAttribute("aria-label", `activation of ${el.title}`);  // a title is no label
    return el;
  }));
}

function input(field, kind, value, options) {
  if (kind === "dataset") return select(options.datasets.map((d) => d.name), value);
  if (kind.startsWith("choice:")) return select(options[kind.slice(7)], value);
  // a bug lesson's run keeps its mistake through the form's Train, and any run can take one
  if (kind === "bug") return select(["none", ...options.bugs], value || "none", mistakeName);
  const el = document.createElement("input");
  el.type = "text";
  el.inputMode = kind === "number" ? "decimal" : "text";
  el.value = kind === "layers" ? value.join(", ") : value === null || value === undefined ? "" : String(value);
  return el;
}

// a value typed in the form; text the server cannot read goes to it as is, so its 422 says why
function readValue(kind, text) {
  if (kind === "bug") return text === "none" ? null : text;
  if (kind === "layers") return text.trim() === "" ? [] : text.split(",").map((s) =>
    (Number.isFinite(Number(s)) && s.trim() !== "" ? Number(s) : s.trim()));
  if (kind !== "number") return text;
  if (text.trim() === "") return null;
  return Number.isFinite(Number(text)) ? Number(text) : text;
}

export function createRunForm(form, options, onSubmit) {
  const grid = form.querySelector("#form-fields"), inputs = {};
  let activationBox = null;
  for (const [field, label, kind, note] of FIELDS) {
    const wrap = document.createElement("div");
    wrap.className = "field";
    wrap.dataset.field = field;
    const title = document.createElement("label");
    title.textContent = label;
    const help = document.createElement("div");
    help.className = "limits";
    help.textContent = [limitText(options.limits[field]), note].filter(Boolean).join(" · ");
    if (kind === "activations") {
      activationBox = document.createElement("div");
      activationBox.className = "activations";
      activationBox.id = `field-${field}`;  // outlined when a refusal names the activations
      // one label for several selects: the box is a named group, each select names its layer
      title.id = `label-${field}`;
      activationBox.setAttribute("role", "group");
      activationBox.setAttribute("aria-labelledby", title.id);
      wrap.append(title, activationBox, help);
    } else {
      inputs[field] = input(field, kind, options.default_config[field], options);
      inputs[field].name = field;
      inputs[field].id = `field-${field}`;
      title.htmlFor = inputs[field].id;
      wrap.append(title, inputs[field], help);
    }
    grid.append(wrap);
  }
  closesOnEscape(form.closest("details"));
  return wireForm(form, options, inputs, activationBox, onSubmit);
}

// Esc in the open form folds it away, and the focus goes to its summary, as Esc closes the
// page's other disclosures (the lessons menu, the keys' help)
function closesOnEscape(details) {
  if (!details) return;
  details.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !details.open) return;
    e.preventDefault();
    details.open = false;
    details.querySelector("summary").focus();
  });
}

// a dataset change resets the output activation, loss and noise to the new dataset's
// defaults (its default_config, as the engine normalizes it), unless they held something
// other than the old dataset's: the user's choice
function followDataset(inputs, activationBox, from, to) {
  const was = from.default_config, now = to.default_config;
  const outputSelect = [...activationBox.querySelectorAll("select")].pop();
  if (outputSelect.value === was.activations.at(-1)) outputSelect.value = now.activations.at(-1);
  if (inputs.loss.value === was.loss) inputs.loss.value = now.loss;
  if (readValue("number", inputs.noise.value) === was.noise) inputs.noise.value = String(now.noise);
  if (from.fixed_size && !to.fixed_size) inputs.n_samples.value = String(now.n_samples);
  inputs.n_samples.disabled = to.fixed_size;
}

// the form as a config: only what differs from the dataset's defaults, so the URL stays
// short and the server fills in the rest exactly as the form showed it
function formConfig(inputs, kindOf, activations, options) {
  const raw = {};
  for (const [field, el] of Object.entries(inputs)) raw[field] = readValue(kindOf[field], el.value);
  raw.activations = activations;
  const used = options.optimizer_hyperparameters[raw.optimizer] || [];
  for (const h of HYPER) if (!used.includes(h)) delete raw[h];
  return configOverrides(raw, options);
}

function wireForm(form, options, inputs, activationBox, onSubmit) {
  const kindOf = Object.fromEntries(FIELDS.map(([f, , k]) => [f, k]));
  const layerCount = () => readValue("layers", inputs.hidden_layers.value).length + 1;
  const currentActivations = () => [...activationBox.querySelectorAll("select")].map((s) => s.value);
  const datasetNamed = (name) => options.datasets.find((d) => d.name === name);
  let shownDataset = datasetNamed(inputs.dataset.value);
  const showHyper = () => {
    const used = options.optimizer_hyperparameters[inputs.optimizer.value] || [];
    for (const h of HYPER) form.querySelector(`[data-field="${h}"]`).hidden = !used.includes(h);
  };
  // a new layer count keeps the hidden activations it can and the output one. the field's
  // change comes as Tab takes the focus from it to the first of these: they are rebuilt
  // once the focus has moved, and it stays in its place, not on the page's body (the same
  // count rebuilds nothing; a submit rebuilds them first)
  const relayoutActivations = () => {
    const now = currentActivations(), count = layerCount();
    if (count === now.length) return;
    const focused = [...activationBox.children].indexOf(document.activeElement);
    // none yet (no run filled the form): the dataset's own output, not relu's
    const output = now.length ? now[now.length - 1]
      : datasetNamed(inputs.dataset.value).default_config.activations.at(-1);
    activationSelects(activationBox, options, count, [...Array(count).keys()].map((k) =>
      (k === count - 1 ? output : k < now.length - 1 ? now[k] : "relu")));
    if (focused >= 0) activationBox.children[Math.min(focused, count - 1)].focus();
  };
  inputs.hidden_layers.addEventListener("change", () => setTimeout(relayoutActivations));
  inputs.dataset.addEventListener("change", () => {
    const next = datasetNamed(inputs.dataset.value);
    followDataset(inputs, activationBox, shownDataset, next);
    shownDataset = next;
  });
  inputs.optimizer.addEventListener("change", showHyper);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    relayoutActivations();
    onSubmit(formConfig(inputs, kindOf, currentActivations(), options));
  });
  // show a run's normalized config in the form
  return function fill(config) {
    for (const [field, el] of Object.entries(inputs)) {
      const v = config[field];
      el.value = kindOf[field] === "layers" ? v.join(", ") : kindOf[field] === "bug" ? v || "none"
        : v === null || v === undefined ? "" : String(v);
    }
    activationSelects(activationBox, options, config.activations.length, config.activations);
    shownDataset = datasetNamed(config.dataset);
    inputs.n_samples.disabled = shownDataset.fixed_size;
    showHyper();
  };
}
