// the names of two compared runs: how each run's config differs from the other's, in a few
// words ("lr 0.5" against "lr 2.0"), computed by diffing the two normalized configs field
// by field. plain text: the views insert it with textContent.

// a field's short name in a label; fields not named here keep their API name. L2's reads
// as the course writes it, "λ = 1"
const SHORT = {learning_rate: "lr", hidden_layers: "layers", activations: "activations",
  batch_size: "batch", keep_prob: "keep_prob", l2: "λ =", n_samples: "samples"};
const MAX_FIELDS = 3;  // a label longer than this many fields ends in "…"

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function valueText(field, value) {
  if (field === "batch_size" && value === null) return "full";
  if (Array.isArray(value)) return value.join(",");
  return value === null ? "none" : String(value);
}

// one differing field in one run's words; the mistake reads as the code that has it
function fieldText(field, value) {
  if (field === "bug") return value === null ? "correct code" : `bug ${value}`;
  return `${SHORT[field] || field} ${valueText(field, value)}`;
}

// the fields whose values differ, in the first config's order, then the second's
export function differingFields(a, b) {
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return fields.filter((f) => !same(a[f] ?? null, b[f] ?? null));
}

// [label of a, label of b]: "lr 0.5" and "lr 2.0"; the same config twice: "same config"
export function runLabels(a, b) {
  const fields = differingFields(a, b);
  if (!fields.length) return ["same config", "same config"];
  const shown = fields.slice(0, MAX_FIELDS), more = fields.length > MAX_FIELDS ? ", …" : "";
  return [a, b].map((config) => shown.map((f) => fieldText(f, config[f] ?? null)).join(", ") + more);
}
