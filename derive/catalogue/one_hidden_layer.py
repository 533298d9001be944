"""One hidden layer, vectorised (deeplearning.ai course 1, week 3): 2-4-1, tanh hidden, sigmoid output, log loss.

The deeplearning.ai network: X is n0×m (one column per example), W1 n1×n0,
b1 n1×1, W2 n2×n1, b2 n2×1, g1 = tanh, g2 = σ, binary cross-entropy.  The
concrete sizes (n0 = 2 inputs, n1 = 4 hidden units, n2 = 1 output) are the
course's planar-data example, kept small; the derivation itself uses the
symbols.  Results, the six equations: dZ2 = A2 − Y, dW2 = (1/m) dZ2 A1ᵀ,
db2 = (1/m) Σ_columns dZ2, dZ1 = W2ᵀ dZ2 ⊙ (1 − A1²), dW1 = (1/m) dZ1 Xᵀ,
db1 = (1/m) Σ_columns dZ1.
"""

from derive import VecNetwork, binary_cross_entropy, mlp, sigmoid, tanh

SIZES = [2, 4, 1]


def build() -> VecNetwork:
    return mlp(
        "one_hidden_layer",
        sizes=SIZES,
        hidden=tanh,
        output=sigmoid,
        loss=binary_cross_entropy,
        doc="2-4-1 vectorised network, tanh hidden, sigmoid output (deeplearning.ai course 1, week 3)",
    )
