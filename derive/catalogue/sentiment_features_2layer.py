"""Sentiment classifier from J&M's six hand features, 2-layer network (J&M ch. 7).

The same six features x1..x6 as ``sentiment_features``; h = σ(Wx + b) with
3 hidden units (Wij joins feature i to hidden unit j, as in ``two_layer_sigmoid``) and
the output y = σ(z), z = Uh + b (J&M write z = Uh; b is the weight of the
dummy node a0 = 1 of J&M ch. 7).
"""

from derive import Network, VecNetwork, binary_cross_entropy, sigmoid
from derive.nlp.features import FEATURES
from derive.nlp.task import TextTask, with_task

HIDDEN = 3


def build() -> Network:
    net = Network(
        "sentiment_features_2layer", doc="sentiment from six hand features, 6-3-1 sigmoid network (J&M ch. 7)"
    )
    xs = net.inputs("x1 x2 x3 x4 x5 x6")
    y = net.targets("y")
    hs = []
    for j in range(1, HIDDEN + 1):
        Ws = net.params(" ".join(f"W{i}{j}" for i in range(1, 7)))
        bj = net.params(f"b{j}")
        zj = net.let(f"z{j}", sum(W * x for W, x in zip(Ws, xs)) + bj)
        hs.append(net.let(f"h{j}", sigmoid(zj)))
    Us = net.params(" ".join(f"U{j}" for j in range(1, HIDDEN + 1)))
    b = net.params("b")
    z = net.let("z", sum(U * h for U, h in zip(Us, hs)) + b)
    yhat = net.let("yhat", sigmoid(z))
    net.loss(binary_cross_entropy(yhat, y))
    return net


def model() -> VecNetwork:
    """The same network layer by layer (W1 3×6 = Wijᵀ, W2 = U, b2 = b), for the training module."""
    net = VecNetwork(
        "sentiment_features_2layer",
        doc="sentiment from J&M's six hand features, 6-3-1 network: h = σ(W1 X + b1), ŷ = σ(W2 h + b2)",
    )
    n0, n1, n2 = net.dims(n0=len(FEATURES), n1=HIDDEN, n2=1)
    X, Y = net.input("X", n0), net.target("Y", n2)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    A1 = net.let("A1", sigmoid(net.let("Z1", W1 * X + b1)))
    W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
    A2 = net.let("A2", sigmoid(net.let("Z2", W2 * A1 + b2)))
    net.cost(binary_cross_entropy(A2, Y))
    return with_task(net, TextTask("sentiment", {"epochs": 300, "lr": 0.3, "batch": 16, "seed": 0}, features=FEATURES))
