"""An LSTM over the words of a review, sentiment from its last output (Ng, deeplearning.ai course 5, week 1).

One step t, declared once, with Ng's cell: the forget, update and output gates
Γf, Γu, Γo = σ(W [a_{t−1}; x_t] + b) (written W a_{t−1} + U x_t + b per gate), the
candidate c̃_t = tanh(Wc a_{t−1} + Uc x_t + bc), the cell c_t = Γf ⊙ c_{t−1} + Γu ⊙ c̃_t and the
output a_t = Γo ⊙ tanh(c_t); two states, a and c, start at 0.  After the last step
ŷ = σ(Vy a_T + by).  The derivation yields Ng's backward equations: dΓo = da ⊙ tanh(c) and
through σ, dc_t = da_t ⊙ Γo_t ⊙ (1 − tanh²(c_t)) + (what step t+1 sends back), dc̃ = dc ⊙ Γu,
dΓu = dc ⊙ c̃, dΓf = dc ⊙ c_{t−1} (each then through its σ or tanh), and
dc_prev = (dc + Γo ⊙ (1 − tanh² c) ⊙ da) ⊙ Γf.  Reviews: the shipped sentiment corpus, T = 24.
"""

from derive import VecNetwork, binary_cross_entropy, embed, hadamard, sigmoid, tanh
from derive.nlp.task import TextTask, vocabulary, with_task


def build() -> VecNetwork:
    net = VecNetwork("lstm_cell", doc="an LSTM (Ng's cell: forget, update, output gates) over a review, sentiment")
    d, nV, n, k = net.dims(d=16, nV=len(vocabulary("sentiment")), n=16, k=1)
    E = net.param("E", (d, nV))
    gate = {}
    for g in ("f", "u", "c", "o"):
        gate[g] = (net.param(f"W{g}", (n, n)), net.param(f"U{g}", (n, d)), net.param(f"b{g}", (n, 1)))
    net.sequence("T", 24)
    with net.step():
        x = net.let("x", embed(E, net.indices("w", 1, nV)))
        a_prev = net.state("a", n)
        c_prev = net.state("c", n)

        def pre(g):
            W, U, b = gate[g]
            return net.let(f"Z{g}", W * a_prev + U * x + b)

        Gf = net.let("Γf", sigmoid(pre("f")))  # forget gate
        Gu = net.let("Γu", sigmoid(pre("u")))  # update gate
        ct = net.let("ctilde", tanh(pre("c")))  # candidate
        Go = net.let("Γo", sigmoid(pre("o")))  # output gate
        c = net.let("c", hadamard(Gf, c_prev) + hadamard(Gu, ct))
        net.let("a", hadamard(Go, tanh(c)))
    Y = net.target("Y", k)
    Vy, by = net.param("Vy", (k, n)), net.param("by", (k, 1))
    yhat = net.let("yhat", sigmoid(net.let("o", Vy * net.handles["a"] + by)))
    net.cost(binary_cross_entropy(yhat, Y))
    return with_task(net, TextTask("sentiment", {"epochs": 40, "lr": 1.0, "batch": 16, "seed": 0, "clip": 5.0}, 24))


def model() -> VecNetwork:
    """The trained model: the same declaration."""
    return build()
