"""Classic mistakes of the backward functions and the update, each as the course's code
with that one mistake in it (engine.check.mistake_hints gives each its hint).

Each mutation has the signature of the function it breaks and reuses engine.course for
what it gets right, so it stays a one-line change of the reference.
"""

import numpy as np

from engine import course

# -- activations: dZ = dA * g'(Z) -------------------------------------------------------


def sigmoid_backward_of_Z_as_A(dA, Z):
    return dA * Z * (1 - Z)


def sigmoid_backward_without_derivative(dA, Z):
    return np.array(dA, copy=True)


def sigmoid_backward_without_dA(dA, Z):
    s, _ = course.sigmoid(Z)
    return s * (1 - s)


def sigmoid_backward_with_dot(dA, Z):
    """np.dot(dA, s * (1 - s)): a matrix product where the product is entry by entry."""
    s, _ = course.sigmoid(Z)
    return np.dot(dA, s * (1 - s))


def relu_mask_inverted(dA, Z):
    return dA * (Z <= 0)


def relu_mask_keeps_0(dA, Z):
    return dA * (Z >= 0)


def relu_mask_keeps_negative(dA, Z):
    return dA * (Z < 0)


def relu_backward_without_mask(dA, Z):
    return np.array(dA, copy=True)


def relu_backward_of_Z(dA, Z):
    """dZ = np.array(Z, copy=True), then dZ[Z <= 0] = 0: the copy of Z where dA belongs."""
    return np.where(Z > 0, Z, 0.0)


def relu_backward_mask_only(dA, Z):
    """dZ = (Z > 0): the mask alone, without dA."""
    return (Z > 0).astype(float)


def relu_mask_of_dA(dA, Z):
    return dA * (dA > 0)


def relu_backward_in_place(dA, Z):
    dA[Z <= 0] = 0
    return dA


# -- one layer -------------------------------------------------------------------------


def _m(cache):
    return cache[0].shape[1]


def dW_without_1_over_m(dZ, cache):
    dA_prev, dW, db = course.linear_backward(dZ, cache)
    return dA_prev, dW * _m(cache), db


def db_without_1_over_m(dZ, cache):
    dA_prev, dW, db = course.linear_backward(dZ, cache)
    return dA_prev, dW, db * _m(cache)


def dW_db_without_1_over_m(dZ, cache):
    dA_prev, dW, db = course.linear_backward(dZ, cache)
    return dA_prev, dW * _m(cache), db * _m(cache)


def m_from_shape_0(dZ, cache):
    """m = A_prev.shape[0]: the units of the layer before, not the examples."""
    A_prev, W, _ = cache
    n = A_prev.shape[0]
    return np.dot(W.T, dZ), np.dot(dZ, A_prev.T) / n, np.sum(dZ, axis=1, keepdims=True) / n


def cache_unpacked_out_of_order(dZ, cache):
    """W, A_prev, b = cache, where linear_cache is (A_prev, W, b): the course's lines then
    multiply W where A_prev belongs (shapes that do not align, most often)."""
    W, A_prev, _ = cache
    m = A_prev.shape[1]
    dW = 1 / m * np.dot(dZ, A_prev.T)
    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def dW_transposed(dZ, cache):
    """dW = (1/m) A_prev dZᵀ: (n[l-1], n[l]), W's shape transposed."""
    A_prev, _, _ = cache
    dA_prev, _, db = course.linear_backward(dZ, cache)
    return dA_prev, np.dot(A_prev, dZ.T) / _m(cache), db


def dW_without_transpose(dZ, cache):
    """np.dot(dZ, A_prev): (n[l], m) · (n[l-1], m) does not align (a ValueError)."""
    A_prev, _, _ = cache
    dA_prev, _, db = course.linear_backward(dZ, cache)
    return dA_prev, np.dot(dZ, A_prev) / _m(cache), db


def dW_elementwise(dZ, cache):
    """dZ * A_prev.T: entry by entry, where np.dot(dZ, A_prev.T) belongs."""
    A_prev, _, _ = cache
    dA_prev, _, db = course.linear_backward(dZ, cache)
    return dA_prev, 1 / _m(cache) * dZ * A_prev.T, db


def integer_division_1_over_m(dZ, cache):
    """1 // m: integer division, 0 for any m above 1."""
    A_prev, W, _ = cache
    m = _m(cache)
    dW, db = 1 // m * np.dot(dZ, A_prev.T), 1 // m * np.sum(dZ, axis=1, keepdims=True)
    return np.dot(W.T, dZ), dW, db


def dA_prev_with_1_over_m(dZ, cache):
    dA_prev, dW, db = course.linear_backward(dZ, cache)
    return dA_prev / _m(cache), dW, db


def dA_prev_without_transpose(dZ, cache):
    _, W, _ = cache
    _, dW, db = course.linear_backward(dZ, cache)
    return np.dot(W, dZ), dW, db


def dW_with_1_over_m_twice(dZ, cache):
    dA_prev, dW, db = course.linear_backward(dZ, cache)
    return dA_prev, dW / _m(cache), db


def db_with_1_over_m_twice(dZ, cache):
    dA_prev, dW, db = course.linear_backward(dZ, cache)
    return dA_prev, dW, db / _m(cache)


def m_from_dZ_units(dZ, cache):
    """m = dZ.shape[0]: the units of this layer, not the examples."""
    A_prev, W, _ = cache
    n = dZ.shape[0]
    return np.dot(W.T, dZ), np.dot(dZ, A_prev.T) / n, np.sum(dZ, axis=1, keepdims=True) / n


def db_as_row(dZ, cache):
    """db as a row (1, n), the transpose of the course's column."""
    dA_prev, dW, db = course.linear_backward(dZ, cache)
    return dA_prev, dW, db.T


def db_without_keepdims(dZ, cache):
    dA_prev, dW, db = course.linear_backward(dZ, cache)
    return dA_prev, dW, db.reshape(-1)


def db_summed_over_everything(dZ, cache):
    dA_prev, dW, _ = course.linear_backward(dZ, cache)
    return dA_prev, dW, np.sum(dZ) / _m(cache)


def db_summed_over_everything_kept(dZ, cache):
    """np.sum(dZ, keepdims=True) / m: every entry summed, kept as (1, 1)."""
    dA_prev, dW, _ = course.linear_backward(dZ, cache)
    return dA_prev, dW, np.sum(dZ, keepdims=True) / _m(cache)


def db_summed_over_units(dZ, cache):
    dA_prev, dW, _ = course.linear_backward(dZ, cache)
    return dA_prev, dW, np.sum(dZ, axis=0, keepdims=True) / _m(cache)


def db_averaged_over_units(dZ, cache):
    dA_prev, dW, _ = course.linear_backward(dZ, cache)
    return dA_prev, dW, np.mean(dZ, axis=0, keepdims=True)


def _layer_backward(dA, cache, dZ_of):
    """linear_activation_backward with dZ = dZ_of(dA, Z) written out in place of the
    activation's backward, as some learners do."""
    linear_cache, Z = cache
    return course.linear_backward(dZ_of(dA, Z), linear_cache)


def _activation_backward(activation):
    return course.relu_backward if activation == "relu" else course.sigmoid_backward


def layer_with(linear_backward_mistake):
    """linear_activation_backward with linear_backward written out inside it, with that
    mistake: dZ = dA * g'(Z), then dA_prev, dW, db as linear_backward_mistake has them."""
    def linear_activation_backward(dA, cache, activation):
        linear_cache, Z = cache
        return linear_backward_mistake(_activation_backward(activation)(dA, Z), linear_cache)
    linear_activation_backward.__name__ = f"layer_{linear_backward_mistake.__name__}"
    return linear_activation_backward


def layer_linear_backward_of_activation_cache(dA, cache, activation):
    """linear_backward(dZ, activation_cache): Z where (A_prev, W, b) belongs."""
    _, Z = cache
    return course.linear_backward(_activation_backward(activation)(dA, Z), Z)


def layer_activation_backward_of_linear_cache(dA, cache, activation):
    """relu_backward(dA, linear_cache): the tuple (A_prev, W, b) where Z belongs."""
    linear_cache, _ = cache
    dZ = _activation_backward(activation)(dA, linear_cache)
    return course.linear_backward(dZ, linear_cache)


def layer_activations_swapped(dA, cache, activation):
    other = "relu" if activation == "sigmoid" else "sigmoid"
    return course.linear_activation_backward(dA, cache, other)


def layer_without_activation_derivative(dA, cache, activation):
    return _layer_backward(dA, cache, lambda dA, Z: dA)


def _relu_layer(mask):
    """A linear_activation_backward whose ReLU branch computes dZ with that mask."""
    def linear_activation_backward(dA, cache, activation):
        if activation == "relu":
            return _layer_backward(dA, cache, mask)
        return course.linear_activation_backward(dA, cache, activation)
    linear_activation_backward.__name__ = f"layer_{mask.__name__}"
    return linear_activation_backward


layer_relu_mask_inverted = _relu_layer(relu_mask_inverted)
layer_relu_mask_keeps_0 = _relu_layer(relu_mask_keeps_0)


def layer_sigmoid_backward_of_Z_as_A(dA, cache, activation):
    """dZ = dA * activation_cache * (1 - activation_cache): g'(Z) as if the cache held A."""
    if activation == "sigmoid":
        return _layer_backward(dA, cache, sigmoid_backward_of_Z_as_A)
    return course.linear_activation_backward(dA, cache, activation)


# -- the whole net -------------------------------------------------------------------------


def _dAL(AL, Y):
    """The course's dAL = -(Y/AL - (1-Y)/(1-AL)), for Y already of AL's shape."""
    return -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))


def _model_backward(AL, Y, caches, hidden="relu", output="sigmoid", dAL_of=_dAL):
    """The course's L_model_backward, its activations and dAL as parameters."""
    grads, L = {}, len(caches)
    Y = Y.reshape(AL.shape)
    dA = dAL_of(AL, Y)
    for l in range(L, 0, -1):
        activation = output if l == L else hidden
        dA, grads[f"dW{l}"], grads[f"db{l}"] = course.linear_activation_backward(
            dA, caches[l - 1], activation)
        grads[f"dA{l - 1}"] = dA
    return grads


def dAL_sign_flipped(AL, Y, caches):
    return _model_backward(AL, Y, caches, dAL_of=lambda AL, Y: -_dAL(AL, Y))


def dAL_without_parentheses(AL, Y, caches):
    """- np.divide(Y, AL) - np.divide(1 - Y, 1 - AL): the second term's sign flipped."""
    return _model_backward(AL, Y, caches,
                           dAL_of=lambda AL, Y: - np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))


def dAL_to_every_layer(AL, Y, caches):
    """Each hidden layer's backward given dAL, not the dA the layer above returned."""
    grads, L = {}, len(caches)
    dAL = _dAL(AL, Y.reshape(AL.shape))
    for l in range(L, 0, -1):
        grads[f"dA{l - 1}"], grads[f"dW{l}"], grads[f"db{l}"] = (
            course.linear_activation_backward(dAL, caches[l - 1], "sigmoid" if l == L else "relu"))
    return grads


def dAL_is_dZ(AL, Y, caches):
    """dAL = AL - Y, which is dZ[L] already: the output's backward then applies sigmoid′
    to it again."""
    return _model_backward(AL, Y, caches, dAL_of=lambda AL, Y: AL - Y)


def dAL_over_m(AL, Y, caches):
    """dAL divided by m: the 1/m belongs to dW and db (linear_backward), once."""
    return _model_backward(AL, Y, caches, dAL_of=lambda AL, Y: _dAL(AL, Y) / AL.shape[1])


def _course_loop(AL, Y, caches, layers):
    """The course's L_model_backward, its hidden layers' loop over `layers(L)`."""
    grads, L = {}, len(caches)
    Y = Y.reshape(AL.shape)
    grads[f"dA{L - 1}"], grads[f"dW{L}"], grads[f"db{L}"] = course.linear_activation_backward(
        _dAL(AL, Y), caches[L - 1], "sigmoid")
    for l in layers(L):
        grads[f"dA{l}"], grads[f"dW{l + 1}"], grads[f"db{l + 1}"] = (
            course.linear_activation_backward(grads[f"dA{l + 1}"], caches[l], "relu"))
    return grads


def backward_loop_from_output(AL, Y, caches):
    """for l in reversed(range(L)): the loop starts at the output layer, done before it,
    and asks for grads["dA" + str(L)], which is never kept (a KeyError)."""
    return _course_loop(AL, Y, caches, lambda L: reversed(range(L)))


def backward_loop_stops_at_layer_2(AL, Y, caches):
    """for l in reversed(range(1, L - 1)): layer 1 (l = 0) is never reached."""
    return _course_loop(AL, Y, caches, lambda L: reversed(range(1, L - 1)))


def output_backward_relu(AL, Y, caches):
    return _model_backward(AL, Y, caches, output="relu")


def hidden_backward_sigmoid(AL, Y, caches):
    return _model_backward(AL, Y, caches, hidden="sigmoid")


def dAL_first_term_only(AL, Y, caches):
    """dAL = -np.divide(Y, AL): the (1 - Y) / (1 - AL) term left out."""
    return _model_backward(AL, Y, caches, dAL_of=lambda AL, Y: -np.divide(Y, AL))


def hidden_backward_reads_its_own_dA(AL, Y, caches):
    """Layer l + 1's backward given grads["dA" + str(l)], which it is about to write (a
    KeyError), not grads["dA" + str(l + 1)]."""
    grads, L = {}, len(caches)
    Y = Y.reshape(AL.shape)
    grads[f"dA{L - 1}"], grads[f"dW{L}"], grads[f"db{L}"] = course.linear_activation_backward(
        _dAL(AL, Y), caches[L - 1], "sigmoid")
    for l in reversed(range(L - 1)):
        grads[f"dA{l}"], grads[f"dW{l + 1}"], grads[f"db{l + 1}"] = \
            course.linear_activation_backward(grads[f"dA{l}"], caches[l], "relu")
    return grads


def dW_db_keys_swapped(AL, Y, caches):
    """dA_prev, db, dW = linear_activation_backward(…): dW stored as db, and db as dW."""
    grads = _model_backward(AL, Y, caches)
    return {(f"d{'bW'['b' in k]}{k[2:]}" if k[:2] in ("dW", "db") else k): g
            for k, g in grads.items()}


def dA_keys_one_up(AL, Y, caches):
    grads = _model_backward(AL, Y, caches)
    return {(f"dA{int(k[2:]) + 1}" if k.startswith("dA") else k): g for k, g in grads.items()}


def hidden_dW_db_keys_one_down(AL, Y, caches):
    """grads["dW" + str(l)] in the course's hidden loop (l = L-2 … 0): the hidden layers' dW
    and db numbered one lower, from dW0."""
    grads, L = _model_backward(AL, Y, caches), len(caches)
    return {(f"{k[:2]}{int(k[2:]) - 1}" if k[:2] in ("dW", "db") and int(k[2:]) < L else k): g
            for k, g in grads.items()}


def dAL_kept_in_grads(AL, Y, caches):
    """grads also holds dAL, as grads["dA" + str(L)]."""
    grads = _model_backward(AL, Y, caches)
    Y = Y.reshape(AL.shape)
    grads[f"dA{len(caches)}"] = _dAL(AL, Y)
    return grads


def dZL_as_AL_minus_Y(AL, Y, caches):
    """dZ[L] = AL - Y straight into linear_backward: right only where AL = sigmoid(Z[L])."""
    grads, L = {}, len(caches)
    dA, grads[f"dW{L}"], grads[f"db{L}"] = course.linear_backward(AL - Y, caches[L - 1][0])
    grads[f"dA{L - 1}"] = dA
    for l in range(L - 1, 0, -1):
        dA, grads[f"dW{l}"], grads[f"db{l}"] = course.linear_activation_backward(
            dA, caches[l - 1], "relu")
        grads[f"dA{l - 1}"] = dA
    return grads


# -- the update ----------------------------------------------------------------------------


def update_adds(parameters, grads, learning_rate):
    return {k: p + learning_rate * grads[f"d{k}"] for k, p in parameters.items()}


def update_reads_grads_without_d(parameters, grads, learning_rate):
    """grads["W" + str(l)]: the gradients' keys without their d (a KeyError)."""
    return {k: p - learning_rate * grads[k] for k, p in parameters.items()}


def update_b_with_dW(parameters, grads, learning_rate):
    """b = b - learning_rate * dW: broadcasting makes b an (n[l], n[l-1]) matrix."""
    return {k: p - learning_rate * grads[f"dW{k[1:]}"] for k, p in parameters.items()}


def update_W_with_db(parameters, grads, learning_rate):
    """W = W - learning_rate * db: broadcasting spreads the column db over W's columns."""
    return {k: p - learning_rate * grads[f"db{k[1:]}"] for k, p in parameters.items()}


def update_without_learning_rate(parameters, grads, learning_rate):
    return {k: p - grads[f"d{k}"] for k, p in parameters.items()}


def _update_layers(parameters, grads, learning_rate, layers):
    """The course's update loop over the layer numbers `layers`, as a learner's keys name
    them ("W" + str(l)): one that names no such layer raises the KeyError it does."""
    updated = dict(parameters)
    for l in layers:
        updated[f"W{l}"] = parameters[f"W{l}"] - learning_rate * grads[f"dW{l}"]
        updated[f"b{l}"] = parameters[f"b{l}"] - learning_rate * grads[f"db{l}"]
    return updated


def update_L_is_len_parameters(parameters, grads, learning_rate):
    """L = len(parameters), twice the layers: the loop asks for W[L + 1] (a KeyError)."""
    return _update_layers(parameters, grads, learning_rate, range(1, len(parameters) + 1))


def update_from_layer_0(parameters, grads, learning_rate):
    """for l in range(L) with "W" + str(l): layers 0 to L-1, and there is no W0 (a KeyError)."""
    return _update_layers(parameters, grads, learning_rate, range(len(parameters) // 2))


def update_L_float_division(parameters, grads, learning_rate):
    """L = len(parameters) / 2, a float: range(L) raises a TypeError."""
    return _update_layers(parameters, grads, learning_rate,
                          (l + 1 for l in range(len(parameters) / 2)))


def update_misses_first_layer(parameters, grads, learning_rate):
    """for l in range(1, L) with l + 1 inside: layers 2 to L."""
    first = {"W1", "b1"}
    return {k: p if k in first else p - learning_rate * grads[f"d{k}"]
            for k, p in parameters.items()}


def update_forgets_b(parameters, grads, learning_rate):
    """Only W[l] = W[l] - α dW[l]: every b stays as it was."""
    return {k: p - learning_rate * grads[f"d{k}"] if k.startswith("W") else p.copy()
            for k, p in parameters.items()}


def update_returns_its_input(parameters, grads, learning_rate):
    """The parameters as they came: the updated copy is not what it returns."""
    return {k: p.copy() for k, p in parameters.items()}


def update_misses_last_layer(parameters, grads, learning_rate):
    L = len(parameters) // 2
    last = {f"W{L}", f"b{L}"}
    return {k: p if k in last else p - learning_rate * grads[f"d{k}"]
            for k, p in parameters.items()}
