"""J&M ch. 7 neural unit: z = w·x + b, ŷ = σ(z), with squared error ½(ŷ − y)².

Worked example: w = [0.2, 0.3, 0.9], b = 0.5, x = [0.5, 0.6, 0.1] gives
z = 0.87 and ŷ = σ(0.87) = 0.70.  With squared error the σ' factor does not
cancel: ∂L/∂wᵢ = (ŷ − y)·ŷ(1 − ŷ)·xᵢ (compare logistic_regression).
"""

from derive import Network, sigmoid, squared_error


def build() -> Network:
    net = Network("single_unit", doc="one sigmoid unit, the neural unit of J&M ch. 7")
    x1, x2, x3 = net.inputs("x1 x2 x3")
    y = net.targets("y")
    w1, w2, w3, b = net.params("w1 w2 w3 b")
    z = net.let("z", w1 * x1 + w2 * x2 + w3 * x3 + b)
    yhat = net.let("yhat", sigmoid(z))
    net.loss(squared_error(yhat, y))
    net.examples["lecture"] = {"w1": 0.2, "w2": 0.3, "w3": 0.9, "b": 0.5, "x1": 0.5, "x2": 0.6, "x3": 0.1, "y": 1.0}
    return net
