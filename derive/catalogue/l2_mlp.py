"""L2 regularisation (Ng, deeplearning.ai course 2, week 1): J + (λ/2m) Σ_l ‖W_l‖²_F; biases are not regularised.

The 2-4-1 network of deeplearning.ai course 1 (tanh hidden, sigmoid output,
binary cross-entropy) with the penalty added to its cost:
J = (1/m) Σ L(A2, Y) + (λ/(2m)) (‖W1‖²_F + ‖W2‖²_F), λ = 0.7 as in the
course's assignment.  The derivation yields dW_l = (1/m) dZ_l A_{l−1}ᵀ + (λ/m) W_l
(each W used twice: by its layer and by the penalty) and db_l as before.
"""

from derive import VecNetwork, binary_cross_entropy, frobenius_sq, sigmoid, tanh


def build() -> VecNetwork:
    net = VecNetwork("l2_mlp", doc="2-4-1, tanh hidden, sigmoid output, cost with the L2 penalty of the weights")
    n0, n1, n2 = net.dims(n0=2, n1=4, n2=1)
    X, Y = net.input("X", n0), net.target("Y", n2)
    lam = net.constant("lam", 0.7)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
    A1 = net.let("A1", tanh(net.let("Z1", W1 * X + b1)))
    A2 = net.let("A2", sigmoid(net.let("Z2", W2 * A1 + b2)))
    net.cost(binary_cross_entropy(A2, Y) + lam / (2 * net.m) * (frobenius_sq(W1) + frobenius_sq(W2)))
    return net
