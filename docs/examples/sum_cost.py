"""A cost summed over the examples (J = Σ L, no 1/m): every gradient is ∂J/∂θ itself.

chainrule derive docs/examples/sum_cost.py
"""

from derive import VecNetwork, binary_cross_entropy, sigmoid, tanh

network = VecNetwork("sum_cost", doc="a cost summed over the examples, not averaged")
n0, n1, n2 = network.dims(n0=2, n1=4, n2=1)
X, Y = network.input("X", n0), network.target("Y", n2)
W1, b1 = network.param("W1", (n1, n0)), network.param("b1", (n1, 1))
W2, b2 = network.param("W2", (n2, n1)), network.param("b2", (n2, 1))
A1 = network.let("A1", tanh(W1 @ X + b1))
A2 = network.let("A2", sigmoid(W2 @ A1 + b2))
network.cost(network.m * binary_cross_entropy(A2, Y))
