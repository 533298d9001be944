"""Multinomial logistic regression: one softmax layer over 6 classes (J&M ch. 7, softmax).

z_k = W_1k·x1 + W_2k·x2 + b_k (Wik joins input i to output k, as in the other networks),
ŷ = softmax(z), L = −Σ y_k log ŷ_k with y one-hot.
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
        W1k, W2k, bk = net.params(f"W1{k} W2{k} b{k}")
        zs.append(net.let(f"z{k}", W1k * x1 + W2k * x2 + bk))
    yhats = net.let(" ".join(f"yhat{k}" for k in range(1, K + 1)), softmax(zs))
    net.loss(cross_entropy(yhats, ys))
    example = {"x1": 0.0, "x2": 0.0}
    for k in range(1, K + 1):
        example.update({f"W1{k}": 0.0, f"W2{k}": 0.0, f"b{k}": LECTURE_Z[k - 1], f"y{k}": 1.0 if k == 5 else 0.0})
    net.examples["lecture"] = example
    return net
