"""L1 regularisation: J + (λ/m) Σ_l ‖W_l‖₁; the subgradient sign(W), with sign(0) = 0 (cs231n; Ng, course 2).

The 2-4-1 network of deeplearning.ai course 1 (tanh hidden, sigmoid output,
binary cross-entropy) with the L1 penalty of its weights added to the cost:
J = (1/m) Σ L(A2, Y) + (λ/m) (‖W1‖₁ + ‖W2‖₁).  The derivation yields
dW_l = (1/m) dZ_l A_{l−1}ᵀ + (λ/m) sign(W_l); biases are not regularised.
|w| has no derivative at 0: the rule takes sign(0) = 0, as NumPy's np.sign
and PyTorch's autograd do, so a weight at exactly 0 feels no pull.
"""

from derive import VecNetwork, binary_cross_entropy, l1_norm, sigmoid, tanh


def build() -> VecNetwork:
    net = VecNetwork("l1_mlp", doc="2-4-1, tanh hidden, sigmoid output, cost with the L1 penalty of the weights")
    n0, n1, n2 = net.dims(n0=2, n1=4, n2=1)
    X, Y = net.input("X", n0), net.target("Y", n2)
    lam = net.constant("lam", 0.05)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
    A1 = net.let("A1", tanh(net.let("Z1", W1 * X + b1)))
    A2 = net.let("A2", sigmoid(net.let("Z2", W2 * A1 + b2)))
    net.cost(binary_cross_entropy(A2, Y) + lam / net.m * (l1_norm(W1) + l1_norm(W2)))
    return net
