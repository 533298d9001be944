"""The ReLU-hidden, sigmoid-output network of J&M's backward-pass slides (ch. 7, CS124).

z[1] = W[1]x + b[1], a[1] = ReLU(z[1]), z[2] = W[2]a[1] + b[2], a[2] = σ(z[2]) = ŷ,
written per unit as in ``two_layer_sigmoid``.  ReLU'(z) = 1 for z ≥ 0 and 0 otherwise, so
∂L/∂W11 = (ŷ − y)·w1·step(z1)·x1.
"""

from derive import Network, binary_cross_entropy, relu, sigmoid


def build() -> Network:
    net = Network("two_layer_relu", doc="2-2-1 network, ReLU hidden, sigmoid output (J&M ch. 7, the backward pass)")
    x1, x2 = net.inputs("x1 x2")
    y = net.targets("y")
    W11, W21, W12, W22, b1, b2, w1, w2, b = net.params("W11 W21 W12 W22 b1 b2 w1 w2 b")
    z1 = net.let("z1", W11 * x1 + W21 * x2 + b1)
    a1 = net.let("a1", relu(z1))
    z2 = net.let("z2", W12 * x1 + W22 * x2 + b2)
    a2 = net.let("a2", relu(z2))
    z = net.let("z", w1 * a1 + w2 * a2 + b)
    yhat = net.let("yhat", sigmoid(z))
    net.loss(binary_cross_entropy(yhat, y))
    net.examples["seeded"] = {
        "x1": 0.5, "x2": -1.0, "y": 1.0,
        "W11": 0.4, "W21": -0.2, "W12": 0.3, "W22": 0.6, "b1": 0.1, "b2": 0.1,
        "w1": 1.0, "w2": -1.0, "b": 0.0,
    }  # fmt: skip
    return net
