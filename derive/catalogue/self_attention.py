"""Single-head causal self-attention: a next-word language model on the shipped LM corpus (Vaswani et al. 2017; J&M ch. 9).

Sequence layout: one sequence per call.  The engine's m columns are the T
positions of one text (m = T): the word indices W are 1×T, the target Y is
|V|×T (the next word at each position, one-hot) and the cost is the mean
cross-entropy over the T positions.  Inside the attention, rows are
positions, as the course writes it: X = E[:, W]ᵀ (T×dm, the word vector at
each position), Q = X Wq, K = X Wk, V = X Wv (T×d),

    S = causal_mask(Q Kᵀ/√d)   (T×T; −∞ above the diagonal: position i sees j ≤ i)
    P = softmax_rows(S)        (T×T; each row sums to 1, 0 above the diagonal)
    O = P V                    (T×d)

and the output layer is back in the columns layout: Z = Wo Oᵀ + bo (|V|×T),
A = softmax(Z).  The derivation yields dV = Pᵀ dO, dP = dO Vᵀ,
dS = P ⊙ (dP − rowsum(dP ⊙ P)) (0 above the diagonal), dQ = (1/√d) dS K,
dK = (1/√d) dSᵀ Q.  Shapes stay symbolic; the model: dm = d = 32, |V| from the
corpus, trained on windows of T = 32 consecutive positions.
"""

import sympy as sp

from derive import VecNetwork, causal_mask, cross_entropy, embed, softmax_rows, transpose
from derive.nlp.task import TextTask, vocabulary, with_task

CONTEXT = 32  # T: the positions of one training sequence (the window the generated module trains on)


def build() -> VecNetwork:
    net = VecNetwork(
        "self_attention",
        doc="single-head causal self-attention, a next-word model on the LM corpus (rows are positions)",
    )
    dm, d, nv = net.dims(dm=32, d=32, nv=len(vocabulary("lm")))
    W, Y = net.indices("W", 1, nv), net.target("Y", nv)
    E = net.param("E", (dm, nv))
    Wq, Wk, Wv = net.param("Wq", (dm, d)), net.param("Wk", (dm, d)), net.param("Wv", (dm, d))
    Wo, bo = net.param("Wo", (nv, d)), net.param("bo", (nv, 1))
    X = net.let("X", transpose(embed(E, W)))  # T×dm: row t is the vector of the word at position t
    Q, K, V = net.let("Q", X * Wq), net.let("K", X * Wk), net.let("V", X * Wv)
    S = net.let("S", causal_mask(Q * transpose(K) / sp.sqrt(d)))
    P = net.let("P", softmax_rows(S))
    O = net.let("O", P * V)
    A = net.activation("A", "softmax", net.let("Z", Wo * transpose(O) + bo))
    net.cost(cross_entropy(A, Y))
    return with_task(
        net,
        TextTask("lm", {"epochs": 30, "lr": 0.01, "batch": 4, "seed": 0, "optimizer": "adam"}, CONTEXT, sequence=True),
    )


def model() -> VecNetwork:
    return build()
