// output activation + loss pairs whose dZ[L] simplifies to A − Y: the engine's fused heads
// (engine/losses.py). a table of names, no maths: the views say which formula applies.
const FUSED = {sigmoid: "binary_cross_entropy", softmax: "categorical_cross_entropy"};

export const isFused = (activation, loss) => FUSED[activation] === loss;
