"""Layer normalisation of a hidden layer, per example, over its units (Ba, Kiros and Hinton, 2016; cs231n).

The batch-norm derivation along the other axis: for each example (column),
μ = (1/n1) Σ_rows Z1 and σ² = (1/n1) Σ_rows (Z1 − μ)² over the n1 units,
Ẑ = (Z1 − μ)/√(σ² + ε) and Z̃ = γ ⊙ Ẑ + β with γ, β per unit; A1 = ReLU(Z̃),
then a sigmoid output with binary cross-entropy.  The statistics belong to
one example, so training and prediction compute the same thing and no
running averages are kept.  The derivation collapses to
dZ1 = (1/(n1 √(σ² + ε))) ⊙ (n1 dẐ − Σ_rows dẐ − Ẑ ⊙ Σ_rows (dẐ ⊙ Ẑ)), dẐ = γ ⊙ dZ̃.
"""

import sympy as sp

from derive import VecNetwork, binary_cross_entropy, hadamard, mean_rows, power, relu, sigmoid


def build() -> VecNetwork:
    net = VecNetwork("layernorm_mlp", doc="2-8-1, layer normalisation before the ReLU hidden layer, sigmoid output")
    n0, n1, n2 = net.dims(n0=2, n1=8, n2=1)
    X, Y = net.input("X", n0), net.target("Y", n2)
    eps = net.constant("eps", 1e-5)
    W1 = net.param("W1", (n1, n0))
    gamma1, beta1 = net.param("gamma1", (n1, 1)), net.param("beta1", (n1, 1))
    W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
    Z1 = net.let("Z1", W1 * X)
    mu1 = net.let("mu1", mean_rows(Z1))
    C1 = net.let("C1", Z1 - mu1)
    var1 = net.let("var1", mean_rows(hadamard(C1, C1)))
    Zhat1 = net.let("Zhat1", hadamard(C1, power(var1 + eps, sp.Rational(-1, 2))))
    Ztilde1 = net.let("Ztilde1", hadamard(gamma1, Zhat1) + beta1)
    A1 = net.let("A1", relu(Ztilde1))
    A2 = net.let("A2", sigmoid(net.let("Z2", W2 * A1 + b2)))
    net.cost(binary_cross_entropy(A2, Y))
    return net
