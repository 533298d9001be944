"""word2vec skip-gram with the naive softmax: ŷ = softmax(Uᵀ v_c), J = −log ŷ_o (cs224n assignment 2; Mikolov et al. 2013).

Each column is one (center, outside) pair of the shipped LM corpus: the center word c's
vector v_c = V[:, c] (the columns of V are the center vectors v_w, those of U the outside
vectors u_w, both d×|V|), the scores z = Uᵀ v_c of every word, ŷ = softmax(z) = P(O = · | C = c)
and the loss J = −log ŷ_o, the cross-entropy against the one-hot outside word y.  Skip-gram
sums J over the outside words of the center's window, so the cost sums the columns (no 1/m):
the pairs of one window are its skip-gram loss, J = Σ_{−w ≤ j ≤ w, j ≠ 0} J(v_c, w_{t+j}, U).
The derivation is cs224n's: dz = ŷ − y, ∂J/∂v_c = U(ŷ − y), ∂J/∂U = v_c (ŷ − y)ᵀ, and the
center vectors get dV = scatter_add(dv_c, c): each pair adds its ∂J/∂v_c into the column of
its center word, so a center word sums its window's terms and every other column is 0.
"""

from derive import VecNetwork, cross_entropy, embed, softmax
from derive.nlp.task import TextTask, vocabulary, with_task

TRAINING = {"epochs": 12, "lr": 0.05, "batch": 16, "seed": 0, "optimizer": "sgd"}


def build() -> VecNetwork:
    net = VecNetwork("word2vec_softmax", doc="word2vec skip-gram with the naive softmax (cs224n assignment 2)")
    d, nV = net.dims(d=16, nV=len(vocabulary("lm")))
    V = net.param("V", (d, nV))  # center vectors v_w, one column per word
    U = net.param("U", (d, nV))  # outside vectors u_w
    c = net.indices("c", 1, nV)  # the center word of each pair
    y = net.target("y", nV)  # the outside word, one-hot
    v_c = net.let("v_c", embed(V, c))
    yhat = net.let("yhat", softmax(U.T @ v_c))  # P(O = o | C = c) for every word o
    net.cost(net.m * cross_entropy(yhat, y))  # skip-gram: summed over the window's pairs
    return with_task(net, TextTask("skipgram", TRAINING, window=2))


def model() -> VecNetwork:
    """The trained model: the same declaration."""
    return build()
