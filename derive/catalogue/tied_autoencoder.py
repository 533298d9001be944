"""A tied-weight autoencoder: A1 = σ(W X + b1), X̂ = σ(Wᵀ A1 + b2), one W for both (Goodfellow et al. ch. 14).

X is n0×m with entries in [0, 1]; the target Y is the input itself (Y = X),
reconstructed through n1 < n0 sigmoid units with binary cross-entropy.  W is
used twice — as the encoder and, transposed, as the decoder — so dW is the
sum of both uses: dW = (1/m) dZ1 Xᵀ + (1/m) (dZ2 A1ᵀ)ᵀ = (1/m) (dZ1 Xᵀ + A1 dZ2ᵀ).
"""

from derive import VecNetwork, binary_cross_entropy, sigmoid, transpose, with_training


def build() -> VecNetwork:
    net = VecNetwork(
        "tied_autoencoder",
        doc="4-2-4 autoencoder with tied weights (the decoder is the transposed encoder), sigmoid units",
    )
    n0, n1 = net.dims(n0=4, n1=2)
    X, Y = net.input("X", n0), net.target("Y", n0)
    W, b1, b2 = net.param("W", (n1, n0)), net.param("b1", (n1, 1)), net.param("b2", (n0, 1))
    A1 = net.let("A1", sigmoid(net.let("Z1", W * X + b1)))
    Xhat = net.let("Xhat", sigmoid(net.let("Z2", transpose(W) * A1 + b2)))
    net.cost(binary_cross_entropy(Xhat, Y))
    # the 4-2-4 encoder problem (Rumelhart, Hinton and Williams, 1986): one-hot inputs through two units
    return with_training(net, reconstruct=True, epochs=2000, lr=0.05)
