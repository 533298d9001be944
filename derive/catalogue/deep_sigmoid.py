"""Vanishing gradients, shown: six sigmoid hidden layers of 16 units (Nielsen, ch. 5; Ng, course 2).

A 2-16-16-16-16-16-16-1 network, sigmoid hidden layers, a sigmoid output and
binary cross-entropy.  Backpropagation multiplies one factor g'(Z_l) per
layer along the δ recursion dZ_l = (W_{l+1}ᵀ dZ_{l+1}) ⊙ g'(Z_l).
σ'(z) = σ(z)(1 − σ(z)) ≤ 1/4, so with Xavier weights the first layers'
gradients shrink by a factor of about 4 per layer: ‖dW1‖ ≪ ‖dW6‖.
The generated module's gradient_norms(params, X, Y) measures ‖dW_l‖ per layer.
"""

from derive import mlp


def build():
    return mlp(
        "deep_sigmoid",
        [2, 16, 16, 16, 16, 16, 16, 1],
        hidden="sigmoid",
        output="sigmoid",
        doc="2-16×6-1, six sigmoid hidden layers, sigmoid output: vanishing gradients",
    )
