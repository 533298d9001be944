"""A 4-8-8-3 classifier written as a NumPy user writes it: @, activations applied to expressions, the
output's softmax and its pre-activation left for the engine to name (A3 and Z3, after A1 and A2).

    chainrule derive docs/examples/mlp_numpy.py
    chainrule generate docs/examples/mlp_numpy.py -o mlp.py
"""

from derive import VecNetwork, cross_entropy, relu, softmax

network = VecNetwork("mlp_numpy", doc="a 4-8-8-3 ReLU classifier, declared with NumPy's @")
n0, n1, n2, n3 = network.dims(n0=4, n1=8, n2=8, n3=3)
X, Y = network.input("X", n0), network.target("Y", n3)
W1, b1 = network.param("W1", (n1, n0)), network.param("b1", (n1, 1))
W2, b2 = network.param("W2", (n2, n1)), network.param("b2", (n2, 1))
W3, b3 = network.param("W3", (n3, n2)), network.param("b3", (n3, 1))
A1 = network.let("A1", relu(W1 @ X + b1))
A2 = network.let("A2", relu(W2 @ A1 + b2))
network.cost(cross_entropy(softmax(W3 @ A2 + b3), Y))
