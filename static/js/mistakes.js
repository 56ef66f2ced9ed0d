// The classic mistakes of CONTRACT §7 (engine/mistakes.py), each named by what its code does.
// `bug`: a run's active one (run_status.activeBug), or null; a config's `bug` where a
// caller has put the active one there.

// activation_cache holds A[l], so backward takes g′ at A[l]
export const cachesA = (bug) => bug === "activation_cache_holds_A";
// dW = dZ A_prevᵀ and db = Σ dZ, without 1/m
export const dropsOneOverM = (bug) => bug === "missing_1_over_m";
// dZ = dA: g′ is forgotten, so backward never opens activation_cache
export const skipsGPrime = (bug) => bug === "no_activation_derivative";
// W = W + α dW: the update adds the step
export const addsStep = (bug) => bug === "wrong_update_sign";
// backward does not apply dropout's D[l] and 1/keep_prob to dA[l]
export const forgetsMask = (bug) => bug === "dropout_mask_forgotten_in_backward";
// the cost has L2's term, dW lacks (λ/m) W
export const dropsL2Gradient = (bug) => bug === "l2_gradient_missing";
