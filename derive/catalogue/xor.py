"""XOR by a two-layer network (J&M ch. 7, the XOR problem): ReLU hidden units, linear output.

The lecture's hand-set solution, h1 = ReLU(x1 + x2), h2 = ReLU(x1 + x2 − 1),
ŷ = h1 − 2·h2, computes XOR exactly (examples ``hand_set_x1x2``, loss 0).
The same network is trainable: with squared error ½(ŷ − y)² from a random
start, gradient descent finds a solution (see generated/xor.py).
"""

from derive import Network, relu, squared_error, with_training

HAND_SET = {"W11": 1.0, "W21": 1.0, "b1": 0.0, "W12": 1.0, "W22": 1.0, "b2": -1.0, "w1": 1.0, "w2": -2.0, "b": 0.0}
TRUTH_TABLE = [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]


def build() -> Network:
    net = Network("xor", doc="XOR: 2-2-1, ReLU hidden, linear output, squared error (J&M ch. 7)")
    x1, x2 = net.inputs("x1 x2")
    y = net.targets("y")
    W11, W21, W12, W22, b1, b2, w1, w2, b = net.params("W11 W21 W12 W22 b1 b2 w1 w2 b")
    z1 = net.let("z1", W11 * x1 + W21 * x2 + b1)
    h1 = net.let("h1", relu(z1))
    z2 = net.let("z2", W12 * x1 + W22 * x2 + b2)
    h2 = net.let("h2", relu(z2))
    yhat = net.let("yhat", w1 * h1 + w2 * h2 + b)
    net.loss(squared_error(yhat, y))
    for a, c, target in TRUTH_TABLE:
        net.examples[f"hand_set_{a}{c}"] = {**HAND_SET, "x1": float(a), "x2": float(c), "y": float(target)}
    return with_training(net, epochs=1000, lr=0.1, optimizer="sgd", seed=1)  # seed 1: both ReLU units find a side
