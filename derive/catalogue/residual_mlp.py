"""A residual network: a skip over one hidden layer, H = A2 + A1 (He et al., 2016; cs231n lecture 9).

X is n0×m; two tanh layers of n1 units, Z1 = W1 X + b1, A1 = tanh(Z1),
Z2 = W2 A1 + b2, A2 = tanh(Z2); the skip adds A1 to A2, H = A2 + A1, and a
sigmoid output reads H: Z3 = W3 H + b3, A3 = σ(Z3), with binary
cross-entropy.  A1 is used twice (by Z2 and by H), so its adjoint is the sum
of both uses: dA1 = dH + W2ᵀ dZ2 — the skip's term and the layer's.
"""

from derive import VecNetwork, binary_cross_entropy, sigmoid, tanh


def build() -> VecNetwork:
    net = VecNetwork("residual_mlp", doc="2-4-4-1 with a skip H = A2 + A1, tanh hidden, sigmoid output")
    n0, n1, n2 = net.dims(n0=2, n1=4, n2=1)
    X, Y = net.input("X", n0), net.target("Y", n2)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    W2, b2 = net.param("W2", (n1, n1)), net.param("b2", (n1, 1))
    W3, b3 = net.param("W3", (n2, n1)), net.param("b3", (n2, 1))
    Z1 = net.let("Z1", W1 * X + b1)
    A1 = net.let("A1", tanh(Z1))
    Z2 = net.let("Z2", W2 * A1 + b2)
    A2 = net.let("A2", tanh(Z2))
    H = net.let("H", A2 + A1)
    Z3 = net.let("Z3", W3 * H + b3)
    A3 = net.let("A3", sigmoid(Z3))
    net.cost(binary_cross_entropy(A3, Y))
    return net
