"""Binary logistic regression with cross-entropy loss (Stanford CS124 lecture 10.5; J&M ch. 5 and 7).

ŷ = σ(w·x + b), L = −[y log ŷ + (1 − y) log(1 − ŷ)], and the lecture's result
∂L/∂wⱼ = (σ(w·x + b) − y)·xⱼ.
"""

from derive import Network, binary_cross_entropy, sigmoid


def build() -> Network:
    net = Network(
        "logistic_regression", doc="binary logistic regression, cross-entropy loss (Stanford CS124 lecture 10.5)"
    )
    x1, x2, x3 = net.inputs("x1 x2 x3")
    y = net.targets("y")
    w1, w2, w3, b = net.params("w1 w2 w3 b")
    z = net.let("z", w1 * x1 + w2 * x2 + w3 * x3 + b)
    yhat = net.let("yhat", sigmoid(z))
    net.loss(binary_cross_entropy(yhat, y))
    net.examples["lecture"] = {"w1": 0.2, "w2": 0.3, "w3": 0.9, "b": 0.5, "x1": 0.5, "x2": 0.6, "x3": 0.1, "y": 1.0}
    return net
