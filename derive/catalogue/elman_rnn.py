"""An Elman RNN reading a review word by word; its last state gives the sentiment (J&M ch. 8; Goodfellow §10.2).

One step t, declared once, in Goodfellow et al.'s notation (*Deep Learning* §10.2): x_t = E[:, w_t]
(the word's vector), a_t = W h_{t−1} + U x_t + b, h_t = tanh(a_t) with h_0 = 0; after the last step
ŷ = σ(o) with o = V h_T + c, binary cross-entropy on the label (many-to-one).  The derivation is
backpropagation through time: dh_t collects step t+1's term Wᵀ da_{t+1} (at t = T the output's
Vᵀ do instead), da_t = dh_t ⊙ (1 − h_t²), and every parameter of the step has the sum over t of
its term, dW = (1/m) Σ_t da_t h_{t−1}ᵀ (Goodfellow §10.2.2).  Reviews are the shipped sentiment
corpus, T = 24 words, padded at the front so the last step reads the last word.
"""

from derive import VecNetwork, binary_cross_entropy, embed, sigmoid, tanh
from derive.nlp.task import TextTask, vocabulary, with_task


def build() -> VecNetwork:
    net = VecNetwork(
        "elman_rnn",
        doc="an Elman RNN over a review's words (tanh state), sentiment from the last state",
    )
    d, nV, n, k = net.dims(d=16, nV=len(vocabulary("sentiment")), n=16, k=1)
    E = net.param("E", (d, nV))
    U, W, b = net.param("U", (n, d)), net.param("W", (n, n)), net.param("b", (n, 1))
    net.sequence("T", 24)
    with net.step():
        w = net.indices("w", 1, nV)  # w_t: the t-th word of every review
        x = net.let("x", embed(E, w))
        h_prev = net.state("h", n)  # h_{t−1}, h_0 = 0
        a = net.let("a", W * h_prev + U * x + b)
        h = net.let("h", tanh(a))
    Y = net.target("Y", k)
    V, c = net.param("V", (k, n)), net.param("c", (k, 1))
    yhat = net.let("yhat", sigmoid(net.let("o", V * h + c)))
    net.cost(binary_cross_entropy(yhat, Y))
    return with_task(net, TextTask("sentiment", {"epochs": 40, "lr": 0.1, "batch": 16, "seed": 0, "clip": 5.0}, 24))


def model() -> VecNetwork:
    """The trained model: the same declaration."""
    return build()
