"""A classifier as a NumPy user writes it from scratch: σ as 1/(1 + np.exp(-Z)), a numerically
stable softmax with its max shift, and the cross-entropy written out.  chainrule reads each as the
function it spells (σ, softmax, cross-entropy), so the backward is the lecture's dZ2 = A2 − Y."""

import numpy as np

from derive import VecNetwork

net = VecNetwork("softmax_by_hand")
n0, n1, n2 = net.dims(n0=4, n1=8, n2=3)
X, Y = net.input("X", n0), net.target("Y", n2)
W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))

A1 = 1 / (1 + np.exp(-(W1 @ X + b1)))
Z2 = W2 @ A1 + b2
E = np.exp(Z2 - Z2.max(axis=0, keepdims=True))
A2 = E / E.sum(axis=0, keepdims=True)
net.cost(-np.mean(np.sum(Y * np.log(A2), axis=0)))

network = net
