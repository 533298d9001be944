"""An MLP whose activations are written as NumPy spells them: np.tanh, np.maximum(0, Z) for ReLU,
np.logaddexp(0, Z) for softplus, and its cross-entropy written out with np.log and np.mean.
chainrule reads each NumPy function as the op it computes (tanh, ReLU, softplus)."""

import numpy as np

from derive import VecNetwork, sigmoid

net = VecNetwork("numpy_activations")
n0, n1, n2, n3 = net.dims(n0=3, n1=6, n2=5, n3=1)
X, Y = net.input("X", n0), net.target("Y", n3)
W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
W3, b3 = net.param("W3", (n3, n2)), net.param("b3", (n3, 1))

H1 = np.tanh(W1 @ X + b1)
Z2 = W2 @ H1 + b2
H2 = np.maximum(0, Z2) + np.logaddexp(0, Z2)  # ReLU plus softplus
P = sigmoid(W3 @ H2 + b3)
net.cost(-np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P)))

network = net
