"""Feedforward neural language model (J&M ch. 7; Bengio et al. 2003).

P(w_t | w_1..w_{t−1}) ≈ P(w_t | w_{t−N+1}..w_{t−1}): the N−1 previous words'
embeddings (columns of E, d×|V|) are concatenated, pass through a hidden layer
and a softmax over the vocabulary.  ``build()`` is a small instance the
scalar chain rule derives entry by entry: |V| = 3, d = 2, N − 1 = 2 previous
words as one-hot inputs o_tv, e_ti = Σ_v E_iv·o_tv, h = σ(W1 [e_1; e_2] + b1)
with 2 units (J&M's h = σ(We + b)), ŷ = softmax(W2 h + b2).  ``model()`` is
the trained model, a matrix program over the op table: d = 16, N − 1 = 3,
64 σ units, softmax over the corpus vocabulary.
"""

from derive import Network, VecNetwork, cross_entropy, embed, sigmoid, softmax
from derive.nlp.task import TextTask, vocabulary, with_task

V, D, N1, H = 3, 2, 2, 2


def build() -> Network:
    net = Network("ffnn_lm", doc="feedforward neural language model: embeddings, hidden layer, softmax (J&M ch. 7)")
    onehot = {(t, v): net.inputs(f"o{t}{v}") for t in range(1, N1 + 1) for v in range(1, V + 1)}
    ys = net.targets(" ".join(f"y{v}" for v in range(1, V + 1)), one_hot=True)
    E = {(i, v): net.params(f"E{i}{v}") for i in range(1, D + 1) for v in range(1, V + 1)}
    x = []  # the concatenation [e_1; e_2]
    for t in range(1, N1 + 1):
        for i in range(1, D + 1):
            x.append(net.let(f"e{t}{i}", sum(E[i, v] * onehot[t, v] for v in range(1, V + 1))))
    h = []
    for j in range(1, H + 1):
        Ws = net.params(" ".join(f"W1_{j}{r}" for r in range(1, len(x) + 1)))
        bj = net.params(f"b1_{j}")
        zj = net.let(f"z{j}", sum(W * xr for W, xr in zip(Ws, x)) + bj)
        h.append(net.let(f"h{j}", sigmoid(zj)))
    us = []
    for v in range(1, V + 1):
        Ws = net.params(" ".join(f"W2_{v}{j}" for j in range(1, H + 1)))
        bv = net.params(f"b2_{v}")
        us.append(net.let(f"u{v}", sum(W * hj for W, hj in zip(Ws, h)) + bv))
    yhats = net.let(" ".join(f"yhat{v}" for v in range(1, V + 1)), softmax(us))
    net.loss(cross_entropy(yhats, ys))
    return net


def model() -> VecNetwork:
    """The trained model: N − 1 = 3 previous words, E 16×|V|, 64 σ units, softmax over |V|."""
    net = VecNetwork(
        "ffnn_lm",
        doc="feedforward neural language model: the 3 previous words' embeddings, concatenated, 64 sigmoid units, "
        "softmax over the vocabulary",
    )
    n, d, V, n1 = net.dims(n=3, d=16, V=len(vocabulary("lm")), n1=64)
    W, Y = net.indices("W", n, V), net.target("Y", V)
    E = net.param("E", (d, V))
    Emb = net.let("Emb", embed(E, W))  # e = [e_1; e_2; e_3], the previous words' vectors concatenated
    W1, b1 = net.param("W1", (n1, n * d)), net.param("b1", (n1, 1))
    A1 = net.let("A1", sigmoid(net.let("Z1", W1 * Emb + b1)))  # J&M's h = σ(W e + b)
    W2, b2 = net.param("W2", (V, n1)), net.param("b2", (V, 1))
    net.activation("A2", "softmax", net.let("Z2", W2 * A1 + b2))
    net.cost(cross_entropy(net.handles["A2"], Y))
    return with_task(net, TextTask("lm", {"epochs": 20, "lr": 0.5, "batch": 32, "seed": 0}, 3))
