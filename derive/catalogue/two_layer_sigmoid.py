"""The 2-2-1 sigmoid network with log loss, as a lecture works it by hand.

Wij joins input i to hidden unit j; w1, w2, b are the output unit's weights
and bias.  The lecture's results: ∂L/∂W11 = (ŷ − y)·w1·a1(1 − a1)·x1,
∂L/∂b1 = (ŷ − y)·w1·a1(1 − a1), ∂L/∂w1 = (ŷ − y)·a1.
"""

from derive import Network, binary_cross_entropy, sigmoid


def build() -> Network:
    net = Network("two_layer_sigmoid", doc="2-2-1 sigmoid network, log loss, worked by hand")
    x1, x2 = net.inputs("x1 x2")
    y = net.targets("y")
    W11, W21, W12, W22, b1, b2, w1, w2, b = net.params("W11 W21 W12 W22 b1 b2 w1 w2 b")
    z1 = net.let("z1", W11 * x1 + W21 * x2 + b1)
    a1 = net.let("a1", sigmoid(z1))
    z2 = net.let("z2", W12 * x1 + W22 * x2 + b2)
    a2 = net.let("a2", sigmoid(z2))
    z = net.let("z", w1 * a1 + w2 * a2 + b)
    yhat = net.let("yhat", sigmoid(z))
    net.loss(binary_cross_entropy(yhat, y))
    net.examples["seeded"] = {
        "x1": 0.5, "x2": -1.0, "y": 1.0,
        "W11": 0.1, "W21": 0.2, "W12": 0.3, "W22": -0.4, "b1": 0.0, "b2": 0.1,
        "w1": 1.0, "w2": -1.0, "b": 0.0,
    }  # fmt: skip
    return net
