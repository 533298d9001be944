"""An Elman RNN reading a review word by word; its last state gives the sentiment (J&M ch. 8; Ng, course 5).

One step t, declared once: x_t = E[:, w_t] (the word's vector), Z1_t = Wx x_t + Wh h_{t−1} + b,
h_t = tanh(Z1_t) with h_0 = 0; after the last step ŷ = σ(V2 h_T + c), binary cross-entropy on
the label (many-to-one).  The derivation is backpropagation through time: dh_t collects step
t+1's term Whᵀ dZ1_{t+1} (at t = T the output's V2ᵀ dZ2 instead), dZ1_t = dh_t ⊙ (1 − h_t²), and
every parameter of the step has the sum over t of its term, dWh = (1/m) Σ_t dZ1_t h_{t−1}ᵀ
(Goodfellow et al., *Deep Learning* §10.2.2).  Reviews are the shipped sentiment corpus,
T = 24 words, padded at the front so the last step reads the last word.
"""

from derive import VecNetwork, binary_cross_entropy, embed, sigmoid, tanh
from derive.nlp.task import TextTask, vocabulary, with_task


def build() -> VecNetwork:
    net = VecNetwork(
        "elman_rnn",
        doc="an Elman RNN over the words of a review (tanh state, h_0 = 0), sentiment from the last state",
    )
    d, V, n1, k = net.dims(d=16, V=len(vocabulary("sentiment")), n1=16, k=1)
    E = net.param("E", (d, V))
    Wx, Wh, b = net.param("Wx", (n1, d)), net.param("Wh", (n1, n1)), net.param("b", (n1, 1))
    net.sequence("T", 24)
    with net.step():
        w = net.indices("w", 1, V)  # w_t: the t-th word of every review
        x = net.let("x", embed(E, w))
        h_prev = net.state("h", n1)  # h_{t−1}, h_0 = 0
        Z1 = net.let("Z1", Wx * x + Wh * h_prev + b)
        net.let("h", tanh(Z1))
    Y = net.target("Y", k)
    V2, c = net.param("V2", (k, n1)), net.param("c", (k, 1))
    A2 = net.let("A2", sigmoid(net.let("Z2", V2 * net.handles["h"] + c)))
    net.cost(binary_cross_entropy(A2, Y))
    return with_task(net, TextTask("sentiment", {"epochs": 40, "lr": 0.1, "batch": 16, "seed": 0, "clip": 5.0}, 24))


def model() -> VecNetwork:
    """The trained model: the same declaration."""
    return build()
