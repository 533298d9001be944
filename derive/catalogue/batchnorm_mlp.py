"""Batch normalisation of a hidden layer, over the batch, per unit (Ioffe and Szegedy, 2015; cs231n assignment 2).

A 2-8-1 network: Z1 = W1 X (no bias: β takes its place), then over the m
examples of the batch μ = (1/m) Σ_columns Z1, σ² = (1/m) Σ_columns (Z1 − μ)²,
Ẑ = (Z1 − μ)/√(σ² + ε) and Z̃ = γ ⊙ Ẑ + β; A1 = ReLU(Z̃), then a sigmoid output
with binary cross-entropy.  The derivation goes through μ and σ² step by
step (cs231n's staged graph), then collapses to the one-line form
dZ1 = (γ/(m √(σ² + ε))) ⊙ (m dZ̃ − Σ_columns dZ̃ − Ẑ ⊙ Σ_columns (dZ̃ ⊙ Ẑ)).
Prediction uses running averages of μ and σ² (momentum 0.9), not the batch's.
"""

import sympy as sp

from derive import VecNetwork, binary_cross_entropy, hadamard, mean_columns, power, relu, sigmoid


def build() -> VecNetwork:
    net = VecNetwork("batchnorm_mlp", doc="2-8-1, batch normalisation before the ReLU hidden layer, sigmoid output")
    n0, n1, n2 = net.dims(n0=2, n1=8, n2=1)
    X, Y = net.input("X", n0), net.target("Y", n2)
    eps = net.constant("eps", 1e-5)
    W1 = net.param("W1", (n1, n0))
    gamma1, beta1 = net.param("gamma1", (n1, 1)), net.param("beta1", (n1, 1))
    W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
    Z1 = net.let("Z1", W1 * X)
    mu1 = net.let("mu1", mean_columns(Z1))
    C1 = net.let("C1", Z1 - mu1)
    var1 = net.let("var1", mean_columns(hadamard(C1, C1)))
    Zhat1 = net.let("Zhat1", hadamard(C1, power(var1 + eps, sp.Rational(-1, 2))))
    Ztilde1 = net.let("Ztilde1", hadamard(gamma1, Zhat1) + beta1)
    A1 = net.let("A1", relu(Ztilde1))
    A2 = net.let("A2", sigmoid(net.let("Z2", W2 * A1 + b2)))
    net.cost(binary_cross_entropy(A2, Y))
    return net
