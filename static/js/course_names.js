// the names of an activation's two functions as the code view writes them, relu(Z) and
// relu_backward(dA, Z). the "linear" activation is the identity, g(Z) = Z, and its functions
// are named identity(Z) and identity_backward(dA, Z), as in engine/activations.py: the
// course's linear_forward and linear_backward are a layer's linear step, Z = W·A_prev + b,
// and its gradients, which every layer runs
export const activationFunction = (activation) => (activation === "linear" ? "identity" : activation);

// a tensor of layer l in the course's notation: "Z[2]", "ΔW[2]" (the update), and A_prev as
// the array it is, "A_prev (= A[1])", since "[2]" names a layer and A_prev[2] reads as A[2]
export const tensorLabel = (name, l) => (name === "update" ? `ΔW[${l}]`
  : name === "A_prev" ? `A_prev (= ${l === 1 ? "X" : `A[${l - 1}]`})` : `${name}[${l}]`);
