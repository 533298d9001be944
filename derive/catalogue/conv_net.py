"""A convolutional network on small images: conv → ReLU → max pool → affine → softmax (cs231n assignment 2).

cs231n's three-layer ConvNet without its hidden affine layer: 8 filters of 3×3 at stride 1 with pad 1 (the
output keeps the 12×12 image), ReLU, 2×2 max pooling at stride 2, then an affine layer and a softmax over
4 classes, on oriented bars the module draws itself from a seed (``derive.vision.bars``).  Images are
columns: X is (C·H·W)×m, one 1×12×12 image per column; the filters are the F×(C·HH·WW) matrix W1, row f
the filter f flattened (cs231n's ``w.reshape(F, -1)``).  The convolution is derived in its im2col form:
X_col = im2col(X), Z1 = unmat(W1 mat(X_col) + b1), so dW1 = (1/m) mat(dZ1) mat(X_col)ᵀ is cs231n's
dW_row = dout X_colᵀ and db1 = (1/m) Σ_columns mat(dZ1) its db[f] = Σ_{n,i,j} dout[n,f,i,j]; the max
pooling routes each entry of dP1 to its window's arg-max.
"""

from derive import VecNetwork, conv2d, cross_entropy, max_pool, relu, softmax
from derive.vision.task import ImageTask, with_images


def build() -> VecNetwork:
    net = VecNetwork("conv_net", doc="conv → ReLU → 2×2 max pool → affine → softmax on 12×12 oriented bars (cs231n)")
    C, H, W, F, K = net.dims(C=1, H=12, W=12, F=8, K=4)
    X, Y = net.image("X", C, H, W), net.target("Y", K)
    W1, b1 = net.filters("W1", F, C, 3, 3), net.param("b1", (F, 1))
    A1 = net.let("A1", relu(net.let("Z1", conv2d(X, W1, b1, stride=1, pad=1))))
    P1 = net.let("P1", max_pool(A1, 2, stride=2))
    W2, b2 = net.param("W2", (K, net.shape_of("P1")[0])), net.param("b2", (K, 1))
    A2 = net.let("A2", softmax(net.let("Z2", W2 @ P1 + b2)))
    net.cost(cross_entropy(A2, Y))
    training = {"epochs": 12, "lr": 0.01, "batch": 32, "seed": 0, "optimizer": "adam"}
    return with_images(net, ImageTask("bars", training, train=1024, heldout=512))
