"""Two convolutions as a user writes them: images as columns (net.image), filter banks (net.filters), a strided
and padded conv2d, average then max pooling with overlapping windows, and the output left unnamed.  The second
convolution reads a computed image, so its input's gradient is derived in the im2col form,
dP1_col = unmat(W2ᵀ mat(dZ2)) and dP1 = col2im(dP1_col).

    chainrule derive docs/examples/conv_two_layers.py
    chainrule generate docs/examples/conv_two_layers.py -o conv_two_layers.py
"""

from derive import VecNetwork, avg_pool, conv2d, cross_entropy, max_pool, relu, softmax

network = VecNetwork("conv_two_layers", doc="two conv layers (stride 2 with pad 1, then 2×2), average and max pooling")
C, H, W, F, G, K = network.dims(C=2, H=9, W=9, F=3, G=4, K=3)
X, Y = network.image("X", C, H, W), network.target("Y", K)
W1, b1 = network.filters("W1", F, C, 3, 3), network.param("b1", (F, 1))
W2, b2 = network.filters("W2", G, F, 2, 2), network.param("b2", (G, 1))
A1 = network.let("A1", relu(network.let("Z1", conv2d(X, W1, b1, stride=2, pad=1))))
P1 = network.let("P1", avg_pool(A1, 2, stride=1))
A2 = network.let("A2", relu(network.let("Z2", conv2d(P1, W2, b2))))
P2 = network.let("P2", max_pool(A2, 2, stride=1))
W3, b3 = network.param("W3", (K, network.shape_of("P2")[0])), network.param("b3", (K, 1))
network.cost(cross_entropy(softmax(W3 @ P2 + b3), Y))
