// the names of an activation's two functions as the code view writes them, relu(Z) and
// relu_backward(dA, Z). the "linear" activation is the identity, g(Z) = Z, and its functions
// are named identity(Z) and identity_backward(dA, Z), as in engine/activations.py: the
// course's linear_forward and linear_backward are a layer's linear step, Z = W·A_prev + b,
// and its gradients, which every layer runs
export const activationFunction = (activation) => (activation === "linear" ? "identity" : activation);
