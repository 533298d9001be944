"""Inverted dropout on both hidden layers: D = (rand < keep_prob), A ← A ⊙ D / keep_prob (Ng, course 2; cs231n).

A 2-16-16-1 ReLU network with a sigmoid output and binary cross-entropy.
Each hidden layer's output is multiplied by a fresh random mask D_l (1 with
probability keep_prob = 0.86, as in deeplearning.ai's assignment) and divided
by keep_prob, so its expected value is unchanged: E[D_l / keep_prob] = 1.
The derivation gives dA_l = dÃ_l ⊙ D_l / keep_prob: the backward pass drops
the same units.  At prediction no unit is dropped and nothing is rescaled:
D_l is replaced by its expectation keep_prob, which the division cancels.
"""

from derive import VecNetwork, binary_cross_entropy, hadamard, relu, sigmoid


def build() -> VecNetwork:
    net = VecNetwork("dropout_mlp", doc="2-16-16-1, ReLU hidden with inverted dropout (keep_prob 0.86), sigmoid output")
    n0, n1, n2, n3 = net.dims(n0=2, n1=16, n2=16, n3=1)
    X, Y = net.input("X", n0), net.target("Y", n3)
    keep_prob = net.constant("keep_prob", 0.86)
    D1, D2 = net.mask("D1", n1, keep_prob), net.mask("D2", n2, keep_prob)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
    W3, b3 = net.param("W3", (n3, n2)), net.param("b3", (n3, 1))
    A1 = net.let("A1", relu(net.let("Z1", W1 * X + b1)))
    Atilde1 = net.let("Atilde1", hadamard(A1, D1) / keep_prob)
    A2 = net.let("A2", relu(net.let("Z2", W2 * Atilde1 + b2)))
    Atilde2 = net.let("Atilde2", hadamard(A2, D2) / keep_prob)
    A3 = net.let("A3", sigmoid(net.let("Z3", W3 * Atilde2 + b3)))
    net.cost(binary_cross_entropy(A3, Y))
    return net
