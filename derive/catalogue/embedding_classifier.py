"""Embeddings as input, pooled into one text vector, softmax over classes (J&M ch. 7, embeddings as input).

The word vectors are the columns of E (d×|V|), a parameter; a text is word
indices w_1..w_n.  ``build()`` is a small instance the scalar chain rule
derives entry by entry: |V| = 3 words, d = 2, n = 2 positions given as one-hot
inputs o_tv (1 if w_t is word v), e_ti = Σ_v E_iv·o_tv, mean pooling
x_i = (e_1i + e_2i)/2, and a softmax over 3 classes.  Its gradient
∂L/∂E_iv = Σ_t (∂L/∂e_ti)·o_tv is zero for every word v not in the text.
``model()`` is the trained model, a matrix program over the op table: d = 16,
up to 40 words, mean (or max, or fixed-length concatenation) pooling, a tanh
hidden layer and a softmax over the 3 topics of the shipped reviews.
"""

from derive import Network, VecNetwork, cross_entropy, embed, pool_max, pool_mean, softmax, tanh
from derive.nlp.task import TextTask, vocabulary, with_task

V, D, N, K = 3, 2, 2, 3


def build() -> Network:
    net = Network("embedding_classifier", doc="word embeddings, mean pooling, softmax over classes (J&M ch. 7)")
    onehot = {(t, v): net.inputs(f"o{t}{v}") for t in range(1, N + 1) for v in range(1, V + 1)}
    ys = net.targets(" ".join(f"y{k}" for k in range(1, K + 1)), one_hot=True)
    E = {(i, v): net.params(f"E{i}{v}") for i in range(1, D + 1) for v in range(1, V + 1)}
    e = {}
    for t in range(1, N + 1):
        for i in range(1, D + 1):
            e[t, i] = net.let(f"e{t}{i}", sum(E[i, v] * onehot[t, v] for v in range(1, V + 1)))
    x = [net.let(f"x{i}", sum(e[t, i] for t in range(1, N + 1)) / N) for i in range(1, D + 1)]
    zs = []
    for k in range(1, K + 1):
        Ws = net.params(" ".join(f"W{k}{i}" for i in range(1, D + 1)))
        bk = net.params(f"b{k}")
        zs.append(net.let(f"z{k}", sum(W * xi for W, xi in zip(Ws, x)) + bk))
    yhats = net.let(" ".join(f"yhat{k}" for k in range(1, K + 1)), softmax(zs))
    net.loss(cross_entropy(yhats, ys))
    # the text "word 1, word 1": only column 1 of E receives gradient
    point = {f"o{t}{v}": float(v == 1) for t in range(1, N + 1) for v in range(1, V + 1)}
    point.update({"y1": 0.0, "y2": 1.0, "y3": 0.0})
    point.update({f"E{i}{v}": 0.1 * (i + v) * (-1) ** v for i in range(1, D + 1) for v in range(1, V + 1)})
    point.update({f"W{k}{i}": 0.2 * (k - i) for k in range(1, K + 1) for i in range(1, D + 1)})
    point.update({f"b{k}": 0.0 for k in range(1, K + 1)})
    net.examples["text_w1_w1"] = point
    return net


def model(pooling: str = "mean", task: str = "topic") -> VecNetwork:
    """The trained model: E 16×|V|, ``pooling`` over up to 40 words, 16 tanh units, a softmax over the
    3 topics (``task="topic"``) or over negative/positive (``task="sentiment"``: embeddings instead of
    the hand features of ``sentiment_features``, as J&M ch. 7 suggests)."""
    if pooling not in ("mean", "max", "concat"):
        raise ValueError(f"unknown pooling {pooling!r} (expected mean, max or concat)")
    length = 12 if pooling == "concat" else 40
    suffix = ("" if pooling == "mean" else f"_{pooling}") + ("" if task == "topic" else f"_{task}")
    what = "3 topics" if task == "topic" else "negative/positive (sentiment)"
    net = VecNetwork(
        "embedding_classifier" + suffix,
        doc=f"word embeddings, {pooling} pooling, a tanh layer and a softmax over {what}"
        + (f" (texts padded / truncated to {length} words)" if pooling == "concat" else ""),
    )
    n, d, V, n1, n2 = net.dims(n=length, d=16, V=len(vocabulary("sentiment")), n1=16, n2=3 if task == "topic" else 2)
    W, Y = net.indices("W", n, V), net.target("Y", n2)
    E = net.param("E", (d, V))
    Emb = net.let("Emb", embed(E, W))  # the n word vectors of each text, stacked: [e_1; …; e_n]
    if pooling == "concat":
        X, rows = Emb, n * d  # the concatenation itself: padded with zero vectors, truncated to n
    else:
        X, rows = net.let("X", pool_mean(Emb) if pooling == "mean" else pool_max(Emb)), d
    W1, b1 = net.param("W1", (n1, rows)), net.param("b1", (n1, 1))
    A1 = net.let("A1", tanh(net.let("Z1", W1 * X + b1)))
    W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
    net.activation("A2", "softmax", net.let("Z2", W2 * A1 + b2))
    net.cost(cross_entropy(net.handles["A2"], Y))
    return with_task(net, TextTask(task, {"epochs": 30, "lr": 0.5, "batch": 16, "seed": 0}, length))
