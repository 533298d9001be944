"""A penalty on the hidden layer's activations, λ ‖A1‖² (Keras's activity regulariser), beside the cross-entropy."""

from derive import VecNetwork, cross_entropy, frobenius_sq, softmax, tanh

network = VecNetwork("activation_penalty", doc="a penalty on the hidden activations (an activity regulariser)")
n0, n1, n2 = network.dims(n0=4, n1=5, n2=3)
lam = network.constant("lam", 0.1)
X, Y = network.input("X", n0), network.target("Y", n2)
W1, b1 = network.param("W1", (n1, n0)), network.param("b1", (n1, 1))
W2, b2 = network.param("W2", (n2, n1)), network.param("b2", (n2, 1))
A1 = network.let("A1", tanh(W1 @ X + b1))
network.cost(cross_entropy(softmax(W2 @ A1 + b2), Y) + lam * frobenius_sq(A1))
