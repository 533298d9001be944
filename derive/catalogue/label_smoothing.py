"""Cross-entropy with label smoothing: q = (1 − ε) y + ε/K, so dZ = softmax(Z) − q (Szegedy et al., 2016).

A 2-8-3 network, tanh hidden, softmax output over K = 3 classes.  The one-hot
target Y is smoothed, Q = (1 − ε) Y + ε/K with ε = 0.1, and the loss is the
cross-entropy against Q.  Each column of Q still sums to 1 ((1 − ε) + K·ε/K),
so softmax and cross-entropy cancel as before, to dZ2 = A2 − Q.
"""

from derive import VecNetwork, cross_entropy, tanh


def build() -> VecNetwork:
    net = VecNetwork("label_smoothing", doc="2-8-3, tanh hidden, softmax output, cross-entropy with smoothed labels")
    n0, n1, n2 = net.dims(n0=2, n1=8, n2=3)
    X, Y = net.input("X", n0), net.target("Y", n2)
    eps = net.constant("eps", 0.1)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
    Q = net.let("Q", (1 - eps) * Y + eps / n2)
    A1 = net.let("A1", tanh(net.let("Z1", W1 * X + b1)))
    A2 = net.activation("A2", "softmax", net.let("Z2", W2 * A1 + b2))
    net.cost(cross_entropy(A2, Q))
    return net
