"""Feedforward neural language model (J&M ch. 7; Bengio et al. 2003).

P(w_t | w_1..w_{t−1}) ≈ P(w_t | w_{t−N+1}..w_{t−1}): the N−1 previous words'
embeddings (columns of E, d×|V|) are concatenated, pass through a hidden layer
and a softmax over the vocabulary.  ``build()`` is a small instance the
scalar chain rule derives entry by entry: |V| = 3, d = 2, N − 1 = 2 previous
words as one-hot inputs o_tv, e_ti = Σ_v E_iv·o_tv, h = σ(W1 [e_1; e_2] + b1)
with 2 units (J&M's h = σ(We + b)), ŷ = softmax(W2 h + b2).  ``model()`` is
the trained model: d = 16, N − 1 = 3, 64 σ units, softmax over the corpus
vocabulary.
"""

from derive import Network, cross_entropy, sigmoid, softmax
from derive.nlp.model import Dense, TextModel, Words

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


def model() -> TextModel:
    """The trained model: N − 1 = 3 previous words, E 16×|V|, 64 σ units, softmax over |V|."""
    return TextModel(
        "ffnn_lm",
        Words(dim=16, length=3, pooling="concat"),
        (Dense(64, "sigmoid"),),
        classes="vocab",
        task="lm",
        doc="feedforward neural language model: the 3 previous words' embeddings, concatenated, 64 sigmoid units, "
        "softmax over the vocabulary",
        training={"epochs": 20, "lr": 0.5, "batch": 32, "seed": 0},
    )
