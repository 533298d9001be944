"""A logistic-output network whose binary cross-entropy is written out by hand, NumPy style.

−mean_columns(Y * log(A2) + (1 − Y) * log(1 − A2)) is read as the binary cross-entropy it spells, so σ and the
loss cancel to dZ2 = A2 − Y as in the lecture (deeplearning.ai course 1, week 3):

    chainrule derive docs/examples/bce_by_hand.py
    chainrule generate docs/examples/bce_by_hand.py -o bce.py
"""

import sympy as sp

from derive import VecNetwork, mean_columns, sigmoid, tanh

network = VecNetwork("bce_by_hand", doc="a 3-4-1 tanh network, its binary cross-entropy written out")
n0, n1 = network.dims(n0=3, n1=4)
X, Y = network.input("X", n0), network.target("Y", 1)
W1, b1 = network.param("W1", (n1, n0)), network.param("b1", (n1, 1))
W2, b2 = network.param("W2", (1, n1)), network.param("b2", (1, 1))
A1 = tanh(W1 @ X + b1)
A2 = sigmoid(W2 @ A1 + b2)
network.cost(-mean_columns(Y * sp.log(A2) + (1 - Y) * sp.log(1 - A2)))
