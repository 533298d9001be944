"""An Elman RNN language model: at every step, the next word from the state (J&M ch. 8; Goodfellow §10.2).

One step t, declared once: x_t = E[:, w_t], a_t = W h_{t−1} + U x_t + b, h_t = tanh(a_t)
(h_0 = 0), o_t = V h_t + c, ŷ_t = softmax(o_t), and a cross-entropy at every step against
the next word y_t: J = (1/m) Σ_t Σ_columns L_t (many-to-many).  Backpropagation through time
gives dh_t = Vᵀ (ŷ_t − y_t) + Wᵀ da_{t+1} and da_t = dh_t ⊙ (1 − h_t²), Goodfellow's
δ_t = (Wᵀ δ_{t+1} + Vᵀ (ŷ_t − y_t)) ⊙ (1 − h_t²), and each parameter's gradient sums its term
over t.  Trained on the shipped LM corpus cut into windows of T = 16 words (each window starts
from h_0 = 0), as ffnn_lm is; the module reports its perplexity beside the uniform and unigram ones.
"""

from derive import VecNetwork, cross_entropy, embed, tanh
from derive.nlp.task import TextTask, vocabulary, with_task


def build() -> VecNetwork:
    net = VecNetwork("rnn_lm", doc="an Elman RNN language model (tanh state): the next word at every step")
    d, nV, n = net.dims(d=16, nV=len(vocabulary("lm")), n=64)
    E = net.param("E", (d, nV))
    U, W, b = net.param("U", (n, d)), net.param("W", (n, n)), net.param("b", (n, 1))
    V, c = net.param("V", (nV, n)), net.param("c", (nV, 1))
    net.sequence("T", 16)
    with net.step():
        w = net.indices("w", 1, nV)  # w_t: word t of every window
        Y = net.target("Y", nV)  # y_t: the word after it, one-hot
        x = net.let("x", embed(E, w))
        h_prev = net.state("h", n)  # h_{t−1}, h_0 = 0
        h = net.let("h", tanh(net.let("a", W * h_prev + U * x + b)))
        yhat = net.activation("yhat", "softmax", net.let("o", V * h + c))
    net.cost(cross_entropy(yhat, Y))
    return with_task(net, TextTask("lm", {"epochs": 30, "lr": 0.5, "batch": 16, "seed": 0, "clip": 5.0}, 16))


def model() -> VecNetwork:
    """The trained model: the same declaration."""
    return build()
