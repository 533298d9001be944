"""Four transformer blocks (causal attention, residual, layer norm, a ReLU feedforward network), written as a
user would: NumPy's @ and .T, the blocks in a loop, the output's pre-activation left unnamed."""

import sympy as sp

from derive import (
    VecNetwork,
    causal_mask,
    cross_entropy,
    embed,
    hadamard,
    mean_columns,
    power,
    relu,
    softmax,
    softmax_rows,
)

network = VecNetwork("transformer4", doc="four transformer blocks, a character-level LM")
d, dff, nv = network.dims(d=16, dff=32, nv=20)
W, Y = network.indices("W", 1, nv), network.target("Y", nv)
eps = network.constant("eps", 1e-5)
E = network.param("E", (d, nv))
X = network.let("X0", embed(E, W).T)
for layer in range(1, 5):
    Wq, Wk, Wv = (network.param(f"W{k}{layer}", (d, d)) for k in "qkv")
    gamma, beta = network.param(f"gamma{layer}", (1, d)), network.param(f"beta{layer}", (1, d))
    W1, b1 = network.param(f"W1_{layer}", (d, dff)), network.param(f"b1_{layer}", (1, dff))
    W2, b2 = network.param(f"W2_{layer}", (dff, d)), network.param(f"b2_{layer}", (1, d))
    Q, K, V = (network.let(f"{k}{layer}", X @ M) for k, M in zip("QKV", (Wq, Wk, Wv)))
    P = network.let(f"P{layer}", softmax_rows(causal_mask(Q @ K.T / sp.sqrt(d))))
    H = network.let(f"H{layer}", X + P @ V)
    C = network.let(f"C{layer}", H - mean_columns(H))
    var = network.let(f"var{layer}", mean_columns(hadamard(C, C)))
    Ht = network.let(f"Ht{layer}", hadamard(gamma, hadamard(C, power(var + eps, sp.Rational(-1, 2)))) + beta)
    X = network.let(f"X{layer}", Ht + relu(Ht @ W1 + b1) @ W2 + b2)
Wo, bo = network.param("Wo", (nv, d)), network.param("bo", (nv, 1))
network.cost(cross_entropy(softmax(Wo @ X.T + bo), Y))
