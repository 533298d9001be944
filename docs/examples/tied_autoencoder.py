"""A tied-weight autoencoder as a NumPy user writes it: the decoder reuses the encoder's weights (W.T), the loss
compares the reconstruction with the input itself, and the weight decay's coefficient is a plain number.

The autoencoder of deeplearning.ai's and Stanford's UFLDL notes (sparse autoencoder), without the sparsity term."""

from derive import VecNetwork, binary_cross_entropy, frobenius_sq, sigmoid

network = VecNetwork("tied_autoencoder")
n, k = network.dims(n=6, k=3)
X = network.input("X", n)
W, b, c = network.param("W", (k, n)), network.param("b", (k, 1)), network.param("c", (n, 1))
code = sigmoid(W @ X + b)
network.cost(binary_cross_entropy(sigmoid(W.T @ code + c), X) + 0.001 * frobenius_sq(W))
