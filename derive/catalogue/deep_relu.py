"""Vanishing gradients, shown: six relu hidden layers of 16 units (Nielsen, ch. 5; Ng, course 2).

A 2-16-16-16-16-16-16-1 network, relu hidden layers, a sigmoid output and
binary cross-entropy.  Backpropagation multiplies one factor g'(Z_l) per
layer along the δ recursion dZ_l = (W_{l+1}ᵀ dZ_{l+1}) ⊙ g'(Z_l).
ReLU'(z) is 1 on the active units, and with He weights the gradient's size
is kept from layer to layer: ‖dW1‖ is of the order of ‖dW6‖ (compare deep_sigmoid).
The generated module's gradient_norms(params, X, Y) measures ‖dW_l‖ per layer.
"""

from derive import mlp


def build():
    return mlp(
        "deep_relu",
        [2, 16, 16, 16, 16, 16, 16, 1],
        hidden="relu",
        output="sigmoid",
        doc="2-16×6-1, six ReLU hidden layers, sigmoid output: the gradient keeps its size",
    )
