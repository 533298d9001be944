"""Weight decay written as a NumPy user writes it: λ/2 times the sum of the squared weights, (W**2).sum().

``(W**2).sum()`` of a parameter is the L2 penalty ‖W‖²_F (the catalogue's l2_mlp), so dW gains λ W:

    chainrule derive docs/examples/weight_decay_numpy.py
    chainrule generate docs/examples/weight_decay_numpy.py -o wd.py
"""

from derive import VecNetwork, cross_entropy, relu, softmax

network = VecNetwork("weight_decay_numpy", doc="a 4-6-3 ReLU classifier, weight decay in NumPy's spelling")
n0, n1, n2 = network.dims(n0=4, n1=6, n2=3)
lam = network.constant("lam", 0.01)
X, Y = network.input("X", n0), network.target("Y", n2)
W1, b1 = network.param("W1", (n1, n0)), network.param("b1", (n1, 1))
W2, b2 = network.param("W2", (n2, n1)), network.param("b2", (n2, 1))
A1 = relu(W1 @ X + b1)
network.cost(cross_entropy(softmax(W2 @ A1 + b2), Y) + lam / 2 * ((W1**2).sum() + (W2**2).sum()))
