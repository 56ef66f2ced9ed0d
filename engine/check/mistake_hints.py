"""The classic mistakes `check` recognises, with the hint a learner reads for each.

A mistake is recognised by what it does, never by reading the learner's source: each is
a mutation of the reference (forward_mistakes, backward_mistakes), run on the same cases
as the learner's function. The one whose results are the learner's on every case names
the mistake; failing that, one that gives their results on the cases before and all of
them on the case that differs; failing that, one that gives the learner's value where it
first differs and their results on the cases before.
"""

from collections.abc import Mapping
from typing import NamedTuple

from engine.check import backward_mistakes as back
from engine.check import forward_mistakes as fwd
from engine.check.cases import Case
from engine.check.compare import Difference, first_difference
from engine.check.course_functions import CourseFunction, LensView
from engine.check.observe import (
    MISSING,
    Observation,
    difference,
    exception_text,
    observe,
    value_at,
)


class Mistake(NamedTuple):
    function: str  # the course function it breaks
    code: object  # the mutation: that function with this mistake
    hint: str
    lens: LensView | None = None  # where the lens shows it, if not where the function works

    @property
    def name(self) -> str:
        return self.code.__name__


LINEAR_CACHE_HOLDS_Z = "linear_cache should be (A_prev, W, b); yours holds Z."
LINEAR_CACHE_WITH_Z = ("linear_cache should be (A_prev, W, b); yours holds 4 items: Z belongs "
                       "in the activation cache.")
SQUEEZE = ("compute_cost should return a number: np.squeeze(cost) turns [[0.28]] or [0.28] "
           "into 0.28.")
L_FROM_PARAMETERS = "L = len(parameters) // 2: parameters holds a W and a b per layer."
L_FLOAT = ("L = len(parameters) // 2, with //: len(parameters) / 2 is a float, which range() "
           "does not take.")
OUTPUT_BACKWARD = LensView("backward", "output")
COST = LensView("cost", "output")  # the cost phase's code, where dAL is computed
ACTIVATION_CACHE_HOLDS_A = ("activation_cache should be Z; yours holds A. Backward computes "
                            "g'(Z), so it needs Z.")
MASK_INVERTED = "The ReLU mask is inverted: dZ is dA where Z > 0, and 0 where Z <= 0."
MASK_KEEPS_0 = ("relu'(0) is 0 in the course: keep dA only where Z > 0; your mask also lets "
                "it through where Z is exactly 0.")
INIT = {
    fwd.init_not_scaled: "W should be np.random.randn(...) * 0.01; yours is not scaled by 0.01.",
    fwd.init_scaled_by_0_1: "W should be np.random.randn(...) * 0.01; yours is scaled by "
                            "0.1, ten times too large.",
    fwd.init_scaled_by_0_001: "W should be np.random.randn(...) * 0.01; yours is scaled by "
                              "0.001, ten times too small.",
    fwd.init_over_sqrt_n: "The course scales W by 0.01; yours divides by √n instead "
                          "(Xavier's init, for a later lesson).",
    fwd.init_he: "The course scales W by 0.01; yours uses He's √(2/n) instead "
                 "(for a later lesson).",
    fwd.init_zeros: "W should be np.random.randn(...) * 0.01; yours is all zeros, so every "
                    "unit of a layer computes the same thing and gets the same update: the "
                    "symmetry is never broken (see the zeros-symmetry lesson).",
    fwd.init_he_fan_out: "The course scales W by 0.01; yours uses √(2/n[l]), He's init with the "
                         "layer's own units, where He's takes n[l-1], its inputs.",
    fwd.init_uniform: "W comes from np.random.randn (a normal distribution), not "
                      "np.random.rand (uniform on [0, 1)).",
    fwd.init_transposed: "W[l] has shape (n[l], n[l-1]), one row per unit of layer l; "
                         "yours is transposed.",
    fwd.init_drawn_transposed: "W[l] = np.random.randn(n[l], n[l-1]) * 0.01: yours draws "
                               "(n[l-1], n[l]) and transposes, so the course's numbers land in "
                               "other places.",
    fwd.init_keys_from_0: "The layers are numbered from 1: parameters['W' + str(l)] for l = 1 "
                          "to L-1; yours starts at W0.",
    fwd.init_b_flat: "b[l] is a column: np.zeros((n[l], 1)); yours has shape (n[l],).",
    fwd.init_b_row: "b[l] is a column: np.zeros((n[l], 1)); yours is a row, (1, n[l]).",
    fwd.init_b_of_layer_before: "b[l] has one entry per unit of layer l: np.zeros((n[l], 1)); "
                                "yours has one per unit of the layer before, n[l-1].",
    fwd.init_b_random: "b[l] starts at zero: np.zeros((n[l], 1)); yours is drawn at random, "
                       "and each draw also moves the random stream, so the next W changes.",
}

LINEAR_BACKWARD = (
    Mistake("linear_backward", back.dW_without_1_over_m, "dW = (1/m) dZ A_prevᵀ; yours lacks "
            "the 1/m."),
    Mistake("linear_backward", back.db_without_1_over_m, "db = (1/m) Σ dZ over the examples; "
            "yours lacks the 1/m."),
    Mistake("linear_backward", back.dW_db_without_1_over_m, "dW and db both take 1/m: "
            "dW = (1/m) dZ A_prevᵀ, db = (1/m) Σ dZ; yours lack it."),
    Mistake("linear_backward", back.m_from_shape_0, "m = A_prev.shape[1], the number of "
            "examples (A_prev's columns); yours takes A_prev.shape[0], the units of the layer "
            "before."),
    Mistake("linear_backward", back.m_from_dZ_units, "m = A_prev.shape[1], the number of "
            "examples; yours takes dZ.shape[0], the units of this layer."),
    Mistake("linear_backward", back.cache_unpacked_out_of_order, "linear_cache is (A_prev, W, "
            "b), in that order: A_prev, W, b = cache; yours unpacks W first."),
    Mistake("linear_backward", back.dW_transposed, "dW = (1/m) np.dot(dZ, A_prev.T) has W's "
            "shape (n[l], n[l-1]); yours is transposed: np.dot(A_prev, dZ.T)."),
    Mistake("linear_backward", back.dW_without_transpose, "dW = (1/m) np.dot(dZ, A_prev.T): "
            "A_prev is (n[l-1], m), so the product takes its transpose; yours has "
            "np.dot(dZ, A_prev)."),
    Mistake("linear_backward", back.dW_elementwise, "dW = (1/m) np.dot(dZ, A_prev.T), a "
            "matrix product; dZ * A_prev.T multiplies entry by entry."),
    Mistake("linear_backward", back.integer_division_1_over_m, "1 // m is integer division: 0 "
            "for any m above 1, so dW and db are 0. Write 1 / m, or divide by m."),
    Mistake("linear_backward", back.dA_prev_with_1_over_m, "dA_prev = Wᵀ dZ, without 1/m: the "
            "1/m belongs to dW and db only."),
    Mistake("linear_backward", back.dA_prev_without_transpose, "dA_prev = np.dot(W.T, dZ): W "
            "is (n[l], n[l-1]), so going back takes its transpose; yours has np.dot(W, dZ)."),
    Mistake("linear_backward", back.dW_with_1_over_m_twice, "dW takes 1/m once; yours divides "
            "by m twice."),
    Mistake("linear_backward", back.db_with_1_over_m_twice, "db takes 1/m once; yours divides "
            "by m twice."),
    Mistake("linear_backward", back.db_without_keepdims, "db has shape (n, 1): "
            "np.sum(dZ, axis=1, keepdims=True) / m. Without keepdims it is (n,), which "
            "broadcasting hides until later."),
    Mistake("linear_backward", back.db_as_row, "db is a column, (n, 1): "
            "np.sum(dZ, axis=1, keepdims=True) / m; yours is a row, (1, n)."),
    Mistake("linear_backward", back.db_summed_over_everything, "db sums dZ over the examples "
            "only: np.sum(dZ, axis=1, keepdims=True); yours sums every entry."),
    Mistake("linear_backward", back.db_summed_over_everything_kept, "db sums dZ over the "
            "examples only, axis=1: np.sum(dZ, axis=1, keepdims=True); yours sums every entry "
            "into one (1, 1)."),
    Mistake("linear_backward", back.db_summed_over_units, "db sums dZ over the examples, "
            "axis=1: np.sum(dZ, axis=1, keepdims=True) / m; yours sums over the units, axis=0."),
    Mistake("linear_backward", back.db_averaged_over_units, "db averages dZ over the "
            "examples, axis=1: np.mean(dZ, axis=1, keepdims=True); yours averages over the "
            "units, axis=0."),
)

MISTAKES = (
    Mistake("sigmoid", fwd.sigmoid_caches_A, "sigmoid returns (A, cache) with cache = Z; yours "
            "caches A. sigmoid_backward needs Z."),
    Mistake("sigmoid", fwd.sigmoid_without_minus, "sigmoid is 1 / (1 + np.exp(-Z)); yours has "
            "np.exp(Z), without the minus."),
    Mistake("sigmoid", fwd.sigmoid_without_parentheses, "1 / 1 + np.exp(-Z) is 1 + e^(-Z): "
            "the division comes before the addition. Write 1 / (1 + np.exp(-Z))."),
    Mistake("relu", fwd.relu_caches_A, "relu returns (A, cache) with cache = Z; yours caches A. "
            "relu_backward needs Z."),
    Mistake("relu", fwd.relu_with_np_max, "np.max(Z, 0) takes the largest entry of each "
            "column; ReLU is np.maximum(0, Z), entry by entry."),
    Mistake("sigmoid_backward", back.sigmoid_backward_of_Z_as_A, "sigmoid_backward receives Z, "
            "not A: compute s = 1 / (1 + np.exp(-Z)) first, then dZ = dA * s * (1 - s)."),
    Mistake("sigmoid_backward", back.sigmoid_backward_without_dA, "dZ = dA * s * (1 - s); yours "
            "leaves out the factor dA."),
    Mistake("sigmoid_backward", back.sigmoid_backward_with_dot, "dZ = dA * s * (1 - s), entry "
            "by entry; np.dot(dA, s * (1 - s)) is a matrix product."),
    Mistake("sigmoid_backward", back.sigmoid_backward_without_derivative, "dZ = dA * s * (1 - s), "
            "with s = 1 / (1 + np.exp(-Z)); yours returns dA as it came, without g'(Z)."),
    Mistake("relu_backward", back.relu_mask_inverted, MASK_INVERTED),
    Mistake("relu_backward", back.relu_mask_keeps_0, MASK_KEEPS_0),
    Mistake("relu_backward", back.relu_mask_keeps_negative, "The ReLU mask is inverted: dZ is dA "
            "where Z > 0 and 0 elsewhere; yours keeps it where Z < 0."),
    Mistake("relu_backward", back.relu_backward_without_mask, "After dZ = np.array(dA, "
            "copy=True), set dZ[Z <= 0] = 0: ReLU passes no gradient where Z <= 0; yours "
            "returns dA as it came."),
    Mistake("relu_backward", back.relu_backward_of_Z, "dZ starts as a copy of dA, not of Z: "
            "dZ = np.array(dA, copy=True), then dZ[Z <= 0] = 0."),
    Mistake("relu_backward", back.relu_backward_mask_only, "dZ = dA where Z > 0, and 0 "
            "elsewhere; yours is the mask alone (1 where Z > 0), without dA."),
    Mistake("relu_backward", back.relu_mask_of_dA, "The ReLU mask depends on Z, not on dA: "
            "dZ is dA where Z > 0."),
    Mistake("relu_backward", back.relu_backward_in_place, "relu_backward changed dA in place; "
            "copy it first: dZ = np.array(dA, copy=True), then dZ[Z <= 0] = 0."),
    *(Mistake("initialize_parameters", fwd.two_layer(code), hint) for code, hint in INIT.items()),
    *(Mistake("initialize_parameters_deep", code, hint) for code, hint in INIT.items()),
    Mistake("initialize_parameters_deep", fwd.init_one_layer_short, "One W and b per layer: "
            "for l in range(1, len(layer_dims)); your loop stops a layer early."),
    Mistake("linear_forward", fwd.linear_cache_holds_Z, LINEAR_CACHE_HOLDS_Z),
    Mistake("linear_forward", fwd.linear_cache_is_Z, LINEAR_CACHE_HOLDS_Z),
    Mistake("linear_forward", fwd.linear_cache_with_Z, LINEAR_CACHE_WITH_Z),
    Mistake("linear_forward", fwd.linear_cache_b_before_W, "linear_cache is (A, W, b), in "
            "that order; yours puts b before W."),
    Mistake("linear_forward", fwd.linear_cache_W_first, "linear_cache is (A, W, b), in that "
            "order; yours puts W first."),
    Mistake("linear_forward", fwd.linear_forward_elementwise, "Z = np.dot(W, A) + b, a matrix "
            "product; W * A multiplies entry by entry."),
    Mistake("linear_forward", fwd.linear_forward_b_flat, "b is a column, (n, 1), added to "
            "each example's column; reshaped to (n,) it broadcasts along the examples instead."),
    Mistake("linear_forward", fwd.linear_forward_A_first, "Z = np.dot(W, A) + b: W, (n, "
            "n_prev), comes first, then A, (n_prev, m); np.dot(A, W) takes them the other way "
            "round."),
    Mistake("linear_forward", fwd.linear_forward_without_b, "Z = np.dot(W, A) + b; yours "
            "leaves out b."),
    Mistake("linear_activation_forward", fwd.activation_cache_holds_A, ACTIVATION_CACHE_HOLDS_A),
    Mistake("linear_activation_forward", fwd.layer_linear_cache_holds_Z, LINEAR_CACHE_HOLDS_Z),
    Mistake("linear_activation_forward", fwd.layer_linear_cache_is_Z, LINEAR_CACHE_HOLDS_Z),
    Mistake("linear_activation_forward", fwd.layer_linear_cache_with_Z, LINEAR_CACHE_WITH_Z),
    Mistake("linear_activation_forward", fwd.layer_cache_is_linear_cache, "cache = "
            "(linear_cache, activation_cache); yours is linear_cache alone."),
    Mistake("linear_activation_forward", fwd.layer_activation_cache_is_linear_cache,
            "activation_cache should be Z; yours holds linear_cache, (A_prev, W, b), a second "
            "time."),
    Mistake("linear_activation_forward", fwd.layer_cache_order_swapped, "cache is "
            "(linear_cache, activation_cache), in that order; yours swaps them."),
    Mistake("linear_activation_forward", fwd.activations_swapped, 'activation="sigmoid" should '
            'apply sigmoid and "relu" relu; yours swaps them.'),
    Mistake("L_model_forward", fwd.hidden_layers_sigmoid, "Hidden layers use ReLU: "
            "[LINEAR -> RELU] x (L-1), then LINEAR -> SIGMOID; yours use sigmoid.",
            LensView("forward", "hidden")),
    Mistake("L_model_forward", fwd.output_layer_relu, "The output layer uses sigmoid, so that "
            "AL is a probability; yours uses relu.", LensView("forward", "output")),
    Mistake("L_model_forward", fwd.output_cache_missing, "caches holds one cache per layer: "
            "append the output layer's cache too.", LensView("forward", "output")),
    Mistake("L_model_forward", fwd.forward_L_is_len_parameters, L_FROM_PARAMETERS),
    Mistake("L_model_forward", fwd.forward_L_float_division, L_FLOAT),
    Mistake("L_model_forward", fwd.forward_from_layer_0, "The layers are numbered from 1: for "
            "l in range(1, L), parameters['W' + str(l)]; yours asks for W0."),
    Mistake("L_model_forward", fwd.caches_extended, "caches.append(cache) adds one cache per "
            "layer; caches.extend(cache) adds its two parts, linear_cache and Z, as two "
            "items."),
    Mistake("L_model_forward", fwd.forward_A_not_updated, "Each layer takes the A the layer "
            "before returned: A, cache = linear_activation_forward(A, …); yours gives every "
            "layer X (passed as X, or the result kept under another name).",
            LensView("forward", "hidden")),
    Mistake("L_model_forward", fwd.caches_appended_before_the_call, "caches.append(cache) "
            "comes after the call that makes cache: yours appends first, so caches[0] is None "
            "and each hidden layer's cache lands one place late."),
    Mistake("L_model_forward", fwd.caches_inserted_first, "caches[l-1] is layer l's cache: "
            "caches.append(cache) keeps them in order; yours puts the hidden layers' first, "
            "in reverse (caches.insert(0, cache))."),
    # m = len(Y) and m = Y.shape[0] are 1 for Y of shape (1, m): the same results
    Mistake("compute_cost", fwd.cost_without_1_over_m, "The cost is a mean: multiply the sum "
            "by 1/m, m = Y.shape[1], the number of examples (Y is (1, m), so len(Y) and "
            "Y.shape[0] are 1); yours is the sum."),
    Mistake("compute_cost", fwd.cost_with_1_over_m_twice, "The cost takes 1/m once; yours "
            "divides by m twice."),
    Mistake("compute_cost", fwd.cost_mean_over_axis_0, "The cost is one number, the mean "
            "over all m examples; Y and AL are (1, m), so np.mean(..., axis=0) leaves one "
            "loss per example. Sum over the examples and multiply by 1/m."),
    Mistake("compute_cost", fwd.cost_without_minus, "Cross-entropy has a minus sign: "
            "J = -(1/m) Σ [y log a + (1-y) log(1-a)]; yours is -J."),
    Mistake("compute_cost", fwd.cost_not_squeezed, SQUEEZE),
    Mistake("compute_cost", fwd.cost_of_shape_1, SQUEEZE),
    Mistake("compute_cost", fwd.cost_broadcast_to_m_by_m, "Y and AL both have shape (1, m); "
            "with a transpose on one side, Y * np.log(AL).T broadcasts into an (m, m) matrix "
            "of every pair."),
    Mistake("compute_cost", fwd.cost_logs_swapped, "y goes with log(a) and (1-y) with "
            "log(1-a): J = -(1/m) Σ [y log a + (1-y) log(1-a)]; yours swaps the two logs."),
    Mistake("compute_cost", fwd.cost_terms_subtracted, "The two terms are added: J = -(1/m) "
            "Σ [y log a + (1-y) log(1-a)]; yours subtracts the second."),
    Mistake("compute_cost", fwd.cost_log_a_in_both_terms, "The second term is (1-y) log(1-a); "
            "yours takes log(a) in both terms."),
    Mistake("compute_cost", fwd.cost_dot_without_transpose, "Y and AL are both (1, m): "
            "np.dot(Y, np.log(AL)) needs a transpose, np.log(AL).T; or multiply entry by "
            "entry, np.multiply, then np.sum."),
    Mistake("compute_cost", fwd.cost_of_y_1_only, "The cost has two terms, y log(a) and "
            "(1-y) log(1-a); yours has only the first."),
    *LINEAR_BACKWARD,
    # the same mistakes, with linear_backward written out inside linear_activation_backward
    *(Mistake("linear_activation_backward", back.layer_with(m.code), m.hint)
      for m in LINEAR_BACKWARD),
    Mistake("linear_activation_backward", back.layer_linear_backward_of_activation_cache,
            "linear_backward reads linear_cache = (A_prev, W, b): pass it linear_cache; "
            "activation_cache (Z) goes to relu_backward or sigmoid_backward."),
    Mistake("linear_activation_backward", back.layer_activation_backward_of_linear_cache,
            "relu_backward and sigmoid_backward read activation_cache = Z; yours got "
            "linear_cache = (A_prev, W, b). Unpack cache in its order: linear_cache, "
            "activation_cache = cache."),
    Mistake("linear_activation_backward", back.layer_activations_swapped, 'activation="relu" '
            'takes relu_backward and "sigmoid" sigmoid_backward: choose by the activation '
            "argument; yours takes the other one."),
    Mistake("linear_activation_backward", back.layer_without_activation_derivative,
            "linear_backward takes dZ = dA * g'(Z): dZ = relu_backward(dA, activation_cache) "
            "(or sigmoid_backward), then linear_backward(dZ, linear_cache); yours gives it dA."),
    Mistake("linear_activation_backward", back.layer_relu_mask_inverted, MASK_INVERTED),
    Mistake("linear_activation_backward", back.layer_relu_mask_keeps_0, MASK_KEEPS_0),
    Mistake("linear_activation_backward", back.layer_sigmoid_backward_of_Z_as_A,
            "activation_cache holds Z, not A: compute s = 1 / (1 + np.exp(-Z)) first, then "
            "dZ = dA * s * (1 - s), or call sigmoid_backward(dA, activation_cache)."),
    Mistake("L_model_backward", back.dAL_sign_flipped, "dAL = -(np.divide(Y, AL) - "
            "np.divide(1 - Y, 1 - AL)); yours has the opposite sign.", COST),
    Mistake("L_model_backward", back.dAL_without_parentheses, "dAL = -(np.divide(Y, AL) - "
            "np.divide(1 - Y, 1 - AL)): the minus applies to both terms; without the "
            "parentheses the second term's sign flips.", COST),
    Mistake("L_model_backward", back.dAL_to_every_layer, "Each hidden layer's backward takes "
            'the dA that the layer above returned, grads["dA" + str(l + 1)]; yours passes '
            "dAL to every layer.", LensView("backward", "hidden")),
    Mistake("L_model_backward", back.dAL_over_m, "dAL = -(np.divide(Y, AL) - np.divide(1 - Y, "
            "1 - AL)), without 1/m: the 1/m belongs to dW and db, in linear_backward; yours "
            "divides dAL by m as well.", COST),
    Mistake("L_model_backward", back.dAL_is_dZ, "AL - Y is dZ[L], not dAL: given it, the "
            "output layer's backward applies sigmoid′ once more. Start from dAL = "
            "-(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)).", COST),
    Mistake("L_model_backward", back.backward_loop_from_output, "The output layer's backward "
            "comes before the loop, so the loop takes the hidden layers only: for l in "
            "reversed(range(L - 1)); yours starts at the output layer again."),
    Mistake("L_model_backward", back.backward_loop_stops_at_layer_2, "The loop over the hidden "
            "layers runs down to l = 0, layer 1: for l in reversed(range(L - 1)); yours stops "
            "before it, so dW1, db1 and dA0 are missing."),
    Mistake("L_model_backward", back.output_backward_relu, 'The output layer is sigmoid, so '
            'its backward uses activation="sigmoid"; yours uses relu.', OUTPUT_BACKWARD),
    Mistake("L_model_backward", back.hidden_backward_sigmoid, 'Hidden layers are ReLU, so '
            'their backward uses activation="relu"; yours uses sigmoid.',
            LensView("backward", "hidden")),
    Mistake("L_model_backward", back.dAL_first_term_only, "dAL = -(np.divide(Y, AL) - "
            "np.divide(1 - Y, 1 - AL)); yours has only the first term.", COST),
    Mistake("L_model_backward", back.hidden_backward_reads_its_own_dA, "Layer l + 1's backward "
            'takes grads["dA" + str(l + 1)], which the layer above wrote; grads["dA" + str(l)] '
            "is what it is about to write."),
    Mistake("L_model_backward", back.dW_db_keys_swapped, "linear_activation_backward returns "
            "dA_prev, dW, db, in that order; yours stores them as dA_prev, db, dW."),
    Mistake("L_model_backward", back.hidden_dW_db_keys_one_down, "In the loop over l, layer "
            "l + 1's gradients are grads['dW' + str(l + 1)] and grads['db' + str(l + 1)]; "
            "yours are numbered one lower, from dW0."),
    Mistake("L_model_backward", back.dA_keys_one_up, "Layer l's backward gives dA_prev, kept as "
            'grads["dA" + str(l - 1)]: dA0 to dA{L-1}; yours are numbered one higher.'),
    Mistake("L_model_backward", back.dZL_as_AL_minus_Y, "The course computes dAL = "
            "-(Y/AL - (1-Y)/(1-AL)) and passes it through sigmoid_backward; AL - Y equals "
            "that dZ only where AL = sigmoid(Z[L]).", OUTPUT_BACKWARD),
    Mistake("L_model_backward", back.dAL_kept_in_grads, "grads holds dA0 to dA{L-1}, dW1 to "
            'dWL and db1 to dbL, nothing else; yours also keeps dAL as grads["dA" + str(L)].',
            OUTPUT_BACKWARD),
    Mistake("update_parameters", back.update_adds, "Gradient descent subtracts: "
            "W = W - learning_rate * dW; yours adds."),
    Mistake("update_parameters", back.update_reads_grads_without_d, "The gradients are "
            'grads["dW" + str(l)] and grads["db" + str(l)], with a d; yours reads grads["W…"].'),
    Mistake("update_parameters", back.update_b_with_dW, "b = b - learning_rate * db; yours "
            "subtracts dW from b, and broadcasting turns b into a matrix of W's shape."),
    Mistake("update_parameters", back.update_W_with_db, "W = W - learning_rate * dW; yours "
            "subtracts db from W, and broadcasting spreads the column db over W's columns."),
    Mistake("update_parameters", back.update_without_learning_rate, "Multiply the gradient by "
            "the learning rate: W = W - learning_rate * dW."),
    Mistake("update_parameters", back.update_L_is_len_parameters, L_FROM_PARAMETERS),
    Mistake("update_parameters", back.update_L_float_division, L_FLOAT),
    Mistake("update_parameters", back.update_from_layer_0, "The layers are numbered from 1: "
            'for l in range(L), update parameters["W" + str(l + 1)]; yours asks for W0.'),
    Mistake("update_parameters", back.update_misses_last_layer, "Update every layer, l = 1 to "
            "L (L = len(parameters) // 2); yours leaves the last one as it was."),
    Mistake("update_parameters", back.update_misses_first_layer, "Update every layer, l = 1 to "
            "L (L = len(parameters) // 2); yours leaves the first one (W1, b1) as it was: "
            "range(1, L) with l + 1 inside starts at layer 2."),
    Mistake("update_parameters", back.update_forgets_b, "Update b too, b[l] = b[l] − α "
            "db[l], as W: yours leaves every b as it was."),
    Mistake("update_parameters", back.update_returns_its_input, "Your update_parameters "
            "returns the parameters as they came in: no W or b changed. Return the dict you "
            "updated (parameters, not params after a deepcopy), with steps "
            "learning_rate * dW that are not 0."),
)


def mistakes_of(name: str) -> tuple[Mistake, ...]:
    return tuple(m for m in MISTAKES if m.function == name)


def observations(code, spec: CourseFunction, cases) -> list[Observation] | None:
    """A mutation's observation of every case; None if it raises on one."""
    try:
        return [observe(code, spec, case) for case in cases]
    except Exception:  # a mutation that cannot run there explains nothing
        return None


def recognise(spec: CourseFunction, cases, got: list[Observation], failing: int,
              diff: Difference, reference: Observation) -> Mistake | None:
    """The known mistake that explains the learner's results: one that gives all of them,
    else one that gives all of the failing case's, else one that gives their value where
    it first differs from the course's (reference: the course's observation of the failing
    case). Both after the cases before, as theirs. Where that is an entry of a dict
    (parameters, grads), the mistake must give every entry of it that differs: b1 left as
    it was is also what a loop that skips layer 1 gives, but not with W1 moved."""
    runs = [(m, observations(m.code, spec, cases)) for m in mistakes_of(spec.name)]
    runs = [(m, obs) for m, obs in runs if obs is not None]
    for mistake, obs in runs:
        if all(difference(o, g) is None for o, g in zip(obs, got, strict=True)):
            return mistake
    # the learner's results before the failing case are the course's: a mistake that
    # changes one of them is not theirs, whatever it gives where theirs first differs (a
    # global m = 4 is m = A_prev.shape[0] only on a case whose A_prev has 4 rows). Only
    # cases of the same activation count: a mistake may sit in one branch of the code
    branch = [k for k in range(failing) if cases[k].activation == cases[failing].activation]
    runs = [(m, obs) for m, obs in runs
            if all(difference(obs[k], got[k]) is None for k in branch)]
    # one that gives all of the failing case's results (a cache holding linear_cache twice
    # is not one whose parts are swapped, though both have linear_cache at cache[1])
    for mistake, obs in runs:
        if difference(obs[failing], got[failing]) is None:
            return mistake
    parent = diff.path[:-1]
    theirs = value_at(got[failing], parent) if len(diff.path) > 1 else MISSING
    if isinstance(theirs, Mapping):
        course = value_at(reference, parent)
        course = course if isinstance(course, Mapping) else {}
        keys = [k for k in theirs if k not in course
                or first_difference(course[k], theirs[k]) is not None]
        if not keys:  # (the difference is then a key the dict lacks: nothing to match)
            return None
        for mistake, obs in runs:
            ours = value_at(obs[failing], parent)
            if isinstance(ours, Mapping) and all(
                    k in ours and first_difference(ours[k], theirs[k]) is None for k in keys):
                return mistake
        return None
    theirs = value_at(got[failing], diff.path)
    for mistake, obs in runs:
        ours = value_at(obs[failing], diff.path)
        if ours is not MISSING and first_difference(ours, theirs) is None:
            return mistake
    return None


def recognise_error(spec: CourseFunction, case: Case, err: BaseException) -> Mistake | None:
    """The known mistake that raises what the learner's function raised on that case: the
    same exception with the same message (KeyError: 'W4' of L = len(parameters))."""
    for mistake in mistakes_of(spec.name):
        try:
            observe(mistake.code, spec, case)
        except Exception as theirs:  # any exception may be the learner's
            if type(theirs) is type(err) and exception_text(theirs) == exception_text(err):
                return mistake
    return None
