"""Sentiment classifier from J&M's six hand features, logistic regression (J&M ch. 7).

x1 = count(positive lexicon words), x2 = count(negative lexicon words),
x3 = 1 if "no" in doc, x4 = count(1st/2nd person pronouns), x5 = 1 if "!" in
doc, x6 = log(word count); ŷ = σ(w·x + b) = P(positive).  The features come
from raw text by ``derive.nlp.features``.  The example is J&M's (fig. 5.2):
w = [2.5, −5.0, −1.2, 0.5, 2.0, 0.7], b = 0.1 and their review's
x = [3, 2, 1, 3, 0, ln 66] give z = 0.833 and P(+) = σ(0.833) = 0.70.
"""

import math

import sympy as sp

from derive import Network, VecNetwork, binary_cross_entropy, sigmoid
from derive.nlp.features import FEATURES
from derive.nlp.task import TextExample, TextTask, with_task

JM_WEIGHTS = {"w1": 2.5, "w2": -5.0, "w3": -1.2, "w4": 0.5, "w5": 2.0, "w6": 0.7, "b": 0.1}
JM_REVIEW = {"x1": 3.0, "x2": 2.0, "x3": 1.0, "x4": 3.0, "x5": 0.0, "x6": math.log(66)}
JM_EXAMPLE = TextExample(
    weights=tuple(JM_WEIGHTS[f"w{i}"] for i in range(1, 7)),
    bias=JM_WEIGHTS["b"],
    features=(3, 2, 1, 3, 0, sp.log(66)),
    source=r"J\&M's example review",
)


def build() -> Network:
    net = Network("sentiment_features", doc="sentiment from six hand features, logistic regression (J&M ch. 7)")
    xs = net.inputs("x1 x2 x3 x4 x5 x6")
    y = net.targets("y")
    ws = net.params("w1 w2 w3 w4 w5 w6")
    b = net.params("b")
    z = net.let("z", sum(w * x for w, x in zip(ws, xs)) + b)
    yhat = net.let("yhat", sigmoid(z))
    net.loss(binary_cross_entropy(yhat, y))
    net.examples["jm_review"] = {**JM_WEIGHTS, **JM_REVIEW, "y": 1.0}
    return net


def model() -> VecNetwork:
    """The same model, layer by layer (X = x1..x6 stacked, W1 = w1..w6, b1 = b), for the training module."""
    net = VecNetwork(
        "sentiment_features", doc="sentiment from J&M's six hand features, logistic regression ŷ = σ(W1 X + b1)"
    )
    n0, n1 = net.dims(n0=len(FEATURES), n1=1)
    X, Y = net.input("X", n0), net.target("Y", n1)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    A1 = net.let("A1", sigmoid(net.let("Z1", W1 * X + b1)))
    net.cost(binary_cross_entropy(A1, Y))
    training = {"epochs": 200, "lr": 0.1, "batch": 16, "seed": 0}
    return with_task(net, TextTask("sentiment", training, features=FEATURES, example=JM_EXAMPLE))
