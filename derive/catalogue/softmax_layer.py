"""Multinomial logistic regression: one softmax layer over 6 classes (J&M ch. 7, softmax).

z_k = W_k1·x1 + W_k2·x2 + b_k, ŷ = softmax(z), L = −Σ y_k log ŷ_k with y one-hot.
Worked example: z = [0.6, 1.1, −1.5, 1.2, 3.2, −1.1] gives
softmax(z) = [0.055, 0.090, 0.006, 0.099, 0.74, 0.010] (example ``lecture``:
x = 0 and b = z).  Result: ∂L/∂z_k = ŷ_k − y_k.
"""

from derive import Network, cross_entropy, softmax

K = 6
LECTURE_Z = [0.6, 1.1, -1.5, 1.2, 3.2, -1.1]
LECTURE_SOFTMAX = [0.055, 0.090, 0.006, 0.099, 0.74, 0.010]


def build() -> Network:
    net = Network("softmax_layer", doc="softmax layer, 6 classes, cross-entropy (J&M ch. 7)")
    x1, x2 = net.inputs("x1 x2")
    ys = net.targets(" ".join(f"y{k}" for k in range(1, K + 1)), one_hot=True)
    zs = []
    for k in range(1, K + 1):
        Wk1, Wk2, bk = net.params(f"W{k}1 W{k}2 b{k}")
        zs.append(net.let(f"z{k}", Wk1 * x1 + Wk2 * x2 + bk))
    yhats = net.let(" ".join(f"yhat{k}" for k in range(1, K + 1)), softmax(zs))
    net.loss(cross_entropy(yhats, ys))
    example = {"x1": 0.0, "x2": 0.0}
    for k in range(1, K + 1):
        example.update({f"W{k}1": 0.0, f"W{k}2": 0.0, f"b{k}": LECTURE_Z[k - 1], f"y{k}": 1.0 if k == 5 else 0.0})
    net.examples["lecture"] = example
    return net
