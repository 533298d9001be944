"""Two-layer network with a softmax output (J&M ch. 7): h = σ(Wx + b), ŷ = softmax(Uh).

2 inputs, 2 sigmoid hidden units (Wij joins input i to hidden unit j, as in
``two_layer_sigmoid``), 3 classes, no output bias (J&M's z = Uh), cross-entropy loss with
y one-hot; Ujk joins hidden unit j to output k, the same convention.  Results:
∂L/∂u_k = ŷ_k − y_k, ∂L/∂U_jk = (ŷ_k − y_k)·h_j.
"""

from derive import Network, cross_entropy, sigmoid, softmax

K = 3


def build() -> Network:
    net = Network("two_layer_softmax", doc="2-2-3 network, sigmoid hidden, softmax output (J&M ch. 7)")
    x1, x2 = net.inputs("x1 x2")
    ys = net.targets("y1 y2 y3", one_hot=True)
    W11, W21, W12, W22, b1, b2 = net.params("W11 W21 W12 W22 b1 b2")
    z1 = net.let("z1", W11 * x1 + W21 * x2 + b1)
    h1 = net.let("h1", sigmoid(z1))
    z2 = net.let("z2", W12 * x1 + W22 * x2 + b2)
    h2 = net.let("h2", sigmoid(z2))
    outs = []
    for k in range(1, K + 1):
        U1k, U2k = net.params(f"U1{k} U2{k}")
        outs.append(net.let(f"u{k}", U1k * h1 + U2k * h2))
    yhats = net.let("yhat1 yhat2 yhat3", softmax(outs))
    net.loss(cross_entropy(yhats, ys))
    net.examples["seeded"] = {
        "x1": 0.5, "x2": -1.0, "y1": 0.0, "y2": 1.0, "y3": 0.0,
        "W11": 0.1, "W21": 0.2, "W12": 0.3, "W22": -0.4, "b1": 0.0, "b2": 0.1,
        "U11": 0.5, "U21": -0.3, "U12": 0.2, "U22": 0.8, "U13": -0.6, "U23": 0.1,
    }  # fmt: skip
    return net
