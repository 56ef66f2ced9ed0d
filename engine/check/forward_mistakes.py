"""Classic mistakes of the forward functions, each as the course's code with that one
mistake in it (engine.check.mistake_hints gives each its hint).

Each mutation has the signature of the function it breaks and reuses engine.course for
what it gets right, so it stays a one-line change of the reference.
"""

import numpy as np

from engine import course

# -- activations -------------------------------------------------------------------


def sigmoid_caches_A(Z):
    A, _ = course.sigmoid(Z)
    return A, A


def sigmoid_without_minus(Z):
    return 1 / (1 + np.exp(Z)), Z


def sigmoid_without_parentheses(Z):
    """1 / 1 + np.exp(-Z): the division comes first, so A = 1 + e^-Z."""
    return 1 / 1 + np.exp(-Z), Z


def relu_caches_A(Z):
    A, _ = course.relu(Z)
    return A, A


def relu_with_np_max(Z):
    """np.max(Z, 0): each column's largest entry, not max(Z, 0) entry by entry."""
    return np.max(Z, 0), Z


# -- initialization: layer_dims [n_x, n_1, ..., n_L] --------------------------------


def _init(layer_dims, weights, b_shape=lambda n: (n, 1), last=0):
    """The course's loop with W[l] = weights(n[l], n[l-1]); last=-1 stops a layer early."""
    parameters = {}
    for l in range(1, len(layer_dims) + last):
        parameters[f"W{l}"] = weights(layer_dims[l], layer_dims[l - 1])
        parameters[f"b{l}"] = np.zeros(b_shape(layer_dims[l]))
    return parameters


def init_not_scaled(layer_dims):
    return _init(layer_dims, lambda n, n_prev: np.random.randn(n, n_prev))


def init_scaled_by_0_1(layer_dims):
    return _init(layer_dims, lambda n, n_prev: np.random.randn(n, n_prev) * 0.1)


def init_scaled_by_0_001(layer_dims):
    return _init(layer_dims, lambda n, n_prev: np.random.randn(n, n_prev) * 0.001)


def init_over_sqrt_n(layer_dims):
    return _init(layer_dims, lambda n, n_prev: np.random.randn(n, n_prev) / np.sqrt(n_prev))


def init_he(layer_dims):
    return _init(layer_dims,
                 lambda n, n_prev: np.random.randn(n, n_prev) * np.sqrt(2 / n_prev))


def init_uniform(layer_dims):
    return _init(layer_dims, lambda n, n_prev: np.random.rand(n, n_prev) * 0.01)


def init_zeros(layer_dims):
    """W[l] = np.zeros: every unit of a layer starts, and stays, the same."""
    return _init(layer_dims, lambda n, n_prev: np.zeros((n, n_prev)))


def init_he_fan_out(layer_dims):
    """He's √(2/n) with n = n[l], the layer's own units, where He takes n[l-1]."""
    return _init(layer_dims, lambda n, n_prev: np.random.randn(n, n_prev) * np.sqrt(2 / n))


def init_transposed(layer_dims):
    return _init(layer_dims, lambda n, n_prev: np.random.randn(n_prev, n) * 0.01)


def init_drawn_transposed(layer_dims):
    """np.random.randn(n[l-1], n[l]).T * 0.01: W's shape, with the draws in other places."""
    return _init(layer_dims, lambda n, n_prev: np.random.randn(n_prev, n).T * 0.01)


def init_keys_from_0(layer_dims):
    """parameters["W" + str(l - 1)]: the keys run W0 to W(L-2)."""
    parameters = _init(layer_dims, lambda n, n_prev: np.random.randn(n, n_prev) * 0.01)
    return {f"{k[0]}{int(k[1:]) - 1}": value for k, value in parameters.items()}


def init_b_flat(layer_dims):
    return _init(layer_dims, lambda n, n_prev: np.random.randn(n, n_prev) * 0.01,
                 b_shape=lambda n: (n,))


def init_b_row(layer_dims):
    return _init(layer_dims, lambda n, n_prev: np.random.randn(n, n_prev) * 0.01,
                 b_shape=lambda n: (1, n))


def init_b_of_layer_before(layer_dims):
    """b[l] = np.zeros((n[l-1], 1)): one entry per input, where one per unit belongs."""
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters[f"W{l}"] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01
        parameters[f"b{l}"] = np.zeros((layer_dims[l - 1], 1))
    return parameters


def init_b_random(layer_dims):
    """b[l] drawn like W[l]: np.random.randn(n[l], 1) * 0.01 (each draw moves the stream)."""
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters[f"W{l}"] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01
        parameters[f"b{l}"] = np.random.randn(layer_dims[l], 1) * 0.01
    return parameters


def init_one_layer_short(layer_dims):
    return _init(layer_dims, lambda n, n_prev: np.random.randn(n, n_prev) * 0.01, last=-1)


def two_layer(deep):
    """initialize_parameters(n_x, n_h, n_y) with the mistake of deep(layer_dims)."""
    def initialize_parameters(n_x, n_h, n_y):
        return deep([n_x, n_h, n_y])
    initialize_parameters.__name__ = deep.__name__
    return initialize_parameters


# -- one layer -----------------------------------------------------------------------


def linear_cache_holds_Z(A, W, b):
    Z, _ = course.linear_forward(A, W, b)
    return Z, (Z, W, b)


def linear_cache_is_Z(A, W, b):
    Z, _ = course.linear_forward(A, W, b)
    return Z, Z


def linear_cache_with_Z(A, W, b):
    """(A_prev, W, b, Z): Z added to the linear cache."""
    Z, cache = course.linear_forward(A, W, b)
    return Z, (*cache, Z)


def linear_cache_b_before_W(A, W, b):
    Z, _ = course.linear_forward(A, W, b)
    return Z, (A, b, W)


def linear_cache_W_first(A, W, b):
    Z, _ = course.linear_forward(A, W, b)
    return Z, (W, A, b)


def linear_forward_elementwise(A, W, b):
    """W * A: entry by entry, where np.dot(W, A) belongs."""
    return W * A + b, (A, W, b)


def linear_forward_b_flat(A, W, b):
    """b reshaped to (n,): it broadcasts along the examples, not the units."""
    return np.dot(W, A) + b.reshape(-1), (A, W, b)


def linear_forward_A_first(A, W, b):
    """np.dot(A, W): the factors the other way round (raises, but where shapes happen to
    fit)."""
    return np.dot(A, W) + b, (A, W, b)


def linear_forward_without_b(A, W, b):
    return np.dot(W, A), (A, W, b)


def activation_cache_holds_A(A_prev, W, b, activation):
    A, (linear_cache, _) = course.linear_activation_forward(A_prev, W, b, activation)
    return A, (linear_cache, A)


def layer_linear_cache_holds_Z(A_prev, W, b, activation):
    A, ((_, W, b), Z) = course.linear_activation_forward(A_prev, W, b, activation)
    return A, ((Z, W, b), Z)


def layer_linear_cache_is_Z(A_prev, W, b, activation):
    A, (_, Z) = course.linear_activation_forward(A_prev, W, b, activation)
    return A, (Z, Z)


def layer_linear_cache_with_Z(A_prev, W, b, activation):
    A, (linear_cache, Z) = course.linear_activation_forward(A_prev, W, b, activation)
    return A, ((*linear_cache, Z), Z)


def layer_cache_order_swapped(A_prev, W, b, activation):
    A, (linear_cache, Z) = course.linear_activation_forward(A_prev, W, b, activation)
    return A, (Z, linear_cache)


def layer_cache_is_linear_cache(A_prev, W, b, activation):
    """cache = linear_cache: the activation cache left out."""
    A, (linear_cache, _) = course.linear_activation_forward(A_prev, W, b, activation)
    return A, linear_cache


def layer_activation_cache_is_linear_cache(A_prev, W, b, activation):
    """activation_cache = linear_cache: the cache holds (A_prev, W, b) twice, and no Z."""
    A, (linear_cache, _) = course.linear_activation_forward(A_prev, W, b, activation)
    return A, (linear_cache, linear_cache)


def activations_swapped(A_prev, W, b, activation):
    other = "relu" if activation == "sigmoid" else "sigmoid"
    return course.linear_activation_forward(A_prev, W, b, other)


# -- the whole net ---------------------------------------------------------------------


def _model_forward(X, parameters, hidden="relu", output="sigmoid", keep_last_cache=True,
                   layers=lambda parameters: len(parameters) // 2):
    """The course's L_model_forward, its activations, last cache and count of layers as
    parameters."""
    caches, A = [], X
    L = layers(parameters)
    for l in range(1, L):
        A, cache = course.linear_activation_forward(A, parameters[f"W{l}"],
                                                    parameters[f"b{l}"], hidden)
        caches.append(cache)
    AL, cache = course.linear_activation_forward(A, parameters[f"W{L}"], parameters[f"b{L}"],
                                                 output)
    if keep_last_cache:
        caches.append(cache)
    return AL, caches


def caches_inserted_first(X, parameters):
    """caches.insert(0, cache) for the hidden layers, then the output layer's appended."""
    AL, caches = _model_forward(X, parameters)
    return AL, caches[-2::-1] + caches[-1:]


def caches_extended(X, parameters):
    """caches.extend(cache) in the hidden layers' loop: each cache's two parts, linear_cache
    and Z, as two items; the output layer's cache appended after it, as the course has it."""
    AL, caches = _model_forward(X, parameters)
    return AL, [part for cache in caches[:-1] for part in cache] + caches[-1:]


def caches_appended_before_the_call(X, parameters):
    """caches.append(cache) at the top of the hidden layers' loop, before the call that
    makes that layer's cache (cache = None before the loop): caches[0] is None, each hidden
    layer's cache lands one place late and layer L-1's is lost; the output layer's is
    appended after its call."""
    AL, caches = _model_forward(X, parameters)
    return AL, [None, *caches[:-2], caches[-1]] if len(caches) > 1 else caches


def forward_A_not_updated(X, parameters):
    """The loop's A goes to a name the next layer does not read (A_next, cache = …): every
    layer takes X (a ValueError where the widths differ)."""
    caches, L = [], len(parameters) // 2
    for l in range(1, L):
        _, cache = course.linear_activation_forward(X, parameters[f"W{l}"], parameters[f"b{l}"],
                                                    "relu")
        caches.append(cache)
    AL, cache = course.linear_activation_forward(X, parameters[f"W{L}"], parameters[f"b{L}"],
                                                 "sigmoid")
    return AL, [*caches, cache]


def hidden_layers_sigmoid(X, parameters):
    return _model_forward(X, parameters, hidden="sigmoid")


def output_layer_relu(X, parameters):
    return _model_forward(X, parameters, output="relu")


def output_cache_missing(X, parameters):
    return _model_forward(X, parameters, keep_last_cache=False)


def forward_L_is_len_parameters(X, parameters):
    """L = len(parameters), twice the layers: the loop asks for W[L + 1] (a KeyError)."""
    return _model_forward(X, parameters, layers=len)


def forward_from_layer_0(X, parameters):
    """for l in range(L - 1) with "W" + str(l): the hidden layers as 0 to L-2, and there is
    no W0 (a KeyError)."""
    caches, A, L = [], X, len(parameters) // 2
    for l in range(L - 1):
        A, cache = course.linear_activation_forward(A, parameters[f"W{l}"],
                                                    parameters[f"b{l}"], "relu")
        caches.append(cache)
    AL, cache = course.linear_activation_forward(A, parameters[f"W{L}"], parameters[f"b{L}"],
                                                 "sigmoid")
    return AL, [*caches, cache]


def forward_L_float_division(X, parameters):
    """L = len(parameters) / 2, a float: range(1, L) raises a TypeError."""
    return _model_forward(X, parameters, layers=lambda parameters: len(parameters) / 2)


# -- the cost ----------------------------------------------------------------------------


def cost_without_1_over_m(AL, Y):
    return course.compute_cost(AL, Y) * AL.shape[1]


def cost_with_1_over_m_twice(AL, Y):
    return course.compute_cost(AL, Y) / AL.shape[1]


def cost_mean_over_axis_0(AL, Y):
    """np.mean(..., axis=0) of (1, m) rows: one loss per example, not their mean."""
    return np.squeeze(-np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL), axis=0))


def cost_without_minus(AL, Y):
    return -course.compute_cost(AL, Y)


def cost_not_squeezed(AL, Y):
    return np.array([[course.compute_cost(AL, Y)]])


def cost_of_shape_1(AL, Y):
    """np.sum(..., axis=1) without np.squeeze: an array of shape (1,)."""
    return np.array([course.compute_cost(AL, Y)])


def cost_broadcast_to_m_by_m(AL, Y):
    """Y (1, m) times log(AL).T (m, 1): broadcasting makes an (m, m) matrix of all pairs."""
    m = AL.shape[1]
    return np.squeeze(-np.sum(Y * np.log(AL).T + (1 - Y) * np.log(1 - AL).T) / m)


def cost_of_y_1_only(AL, Y):
    return np.squeeze(-np.sum(Y * np.log(AL)) / AL.shape[1])


def cost_logs_swapped(AL, Y):
    """y log(1-a) + (1-y) log(a): each label with the other's log."""
    m = AL.shape[1]
    return np.squeeze(-1 / m * np.sum(Y * np.log(1 - AL) + (1 - Y) * np.log(AL)))


def cost_terms_subtracted(AL, Y):
    """y log(a) - (1-y) log(1-a): the second term subtracted, not added."""
    m = AL.shape[1]
    return np.squeeze(-1 / m * np.sum(Y * np.log(AL) - (1 - Y) * np.log(1 - AL)))


def cost_log_a_in_both_terms(AL, Y):
    """(1-y) log(a) where (1-y) log(1-a) belongs."""
    m = AL.shape[1]
    return np.squeeze(-1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(AL)))


def cost_dot_without_transpose(AL, Y):
    """np.dot(Y, np.log(AL)) of two (1, m) rows: a ValueError, unless m is 1."""
    m = AL.shape[1]
    return np.squeeze(-1 / m * np.sum(np.dot(Y, np.log(AL)) + np.dot(1 - Y, np.log(1 - AL))))
