"""The lecture's 2-2-1 network unit by unit, with an L2 penalty on its weights and λ declared as a constant.

chainrule derive docs/examples/unit_l2.py --wrt W11
"""

from derive import Network, binary_cross_entropy, sigmoid

network = Network("unit_l2", doc="2-2-1 with an L2 penalty on the weights")
x1, x2 = network.inputs("x1 x2")
y = network.targets("y")
W11, W21, W12, W22, b1, b2, w1, w2, b = network.params("W11 W21 W12 W22 b1 b2 w1 w2 b")
lam = network.constant("lam", 0.01)
a1 = network.let("a1", sigmoid(W11 * x1 + W21 * x2 + b1))
a2 = network.let("a2", sigmoid(W12 * x1 + W22 * x2 + b2))
yhat = network.let("yhat", sigmoid(w1 * a1 + w2 * a2 + b))
network.loss(binary_cross_entropy(yhat, y) + lam / 2 * (W11**2 + W21**2 + W12**2 + W22**2 + w1**2 + w2**2))
