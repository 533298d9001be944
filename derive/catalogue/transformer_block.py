"""One transformer block: causal self-attention, a residual, layer norm and a two-layer feedforward network, a character-level LM (Vaswani et al. 2017; J&M ch. 9).

Sequence layout: one sequence per call, as in ``self_attention``: the m
columns of the character indices W (1×T) and of the target Y (|V|×T, the
next character at each position) are the T positions of one text; inside
the block rows are positions.  X = E[:, W]ᵀ (T×d), then

    S = causal_mask(Q Kᵀ/√d), P = softmax_rows(S), O = P V    (Q = X Wq, K = X Wk, V = X Wv)
    H = X + O                                                  (the residual)
    Ĥ = (H − μ)/√(σ² + ε), μ and σ² over each row's d features (layer norm), H̃ = γ ⊙ Ĥ + β
    H2 = H̃ + ReLU(H̃ W1 + b1) W2 + b2                           (the feedforward network, with its residual)
    A = softmax(Wo H2ᵀ + bo) at every position, mean cross-entropy.

The derivation sums dX over its four uses (Q, K, V and the residual), writes
the layer-norm backward in one line, and the attention backward as
``self_attention`` does.  The model: d = 32, 64 ReLU units, |V| the corpus's
characters, trained on windows of T = 64 characters.
"""

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
    softmax_rows,
    transpose,
)
from derive.nlp.task import TextTask, characters, with_task

CONTEXT = 64  # T: the characters of one training sequence


def build() -> VecNetwork:
    net = VecNetwork(
        "transformer_block",
        doc="one transformer block (attention, residual, layer norm, feedforward), a character-level LM",
    )
    declare(net, *net.dims(d=32, dff=64, nv=len(characters())), eps=1e-5)
    task = TextTask(
        "lm",
        {"epochs": 20, "lr": 0.003, "batch": 4, "seed": 0, "optimizer": "adam"},
        CONTEXT,
        sequence=True,
        characters=True,
    )
    return with_task(net, task)


def declare(net: VecNetwork, d, dff, nv, eps: float) -> None:
    """The block's equations on ``net``, at widths d and dff over a vocabulary of nv (dimensions of ``net``;
    scripts/bench.py declares the block at larger sizes with this)."""
    W, Y = net.indices("W", 1, nv), net.target("Y", nv)
    eps = net.constant("eps", eps)
    E = net.param("E", (d, nv))
    Wq, Wk, Wv = net.param("Wq", (d, d)), net.param("Wk", (d, d)), net.param("Wv", (d, d))
    gamma, beta = net.param("gamma", (1, d)), net.param("beta", (1, d))
    W1, b1 = net.param("W1", (d, dff)), net.param("b1", (1, dff))
    W2, b2 = net.param("W2", (dff, d)), net.param("b2", (1, d))
    Wo, bo = net.param("Wo", (nv, d)), net.param("bo", (nv, 1))
    X = net.let("X", transpose(embed(E, W)))  # T×d: row t is the vector of the character at position t
    Q, K, V = net.let("Q", X * Wq), net.let("K", X * Wk), net.let("V", X * Wv)
    P = net.let("P", softmax_rows(net.let("S", causal_mask(Q * transpose(K) / sp.sqrt(d)))))
    H = net.let("H", X + net.let("O", P * V))  # the residual around the attention
    mu = net.let("mu", mean_columns(H))  # T×1: each position's mean over its d features
    C = net.let("C", H - mu)
    var = net.let("var", mean_columns(hadamard(C, C)))
    Hhat = net.let("Hhat", hadamard(C, power(var + eps, sp.Rational(-1, 2))))
    Htilde = net.let("Htilde", hadamard(gamma, Hhat) + beta)
    F1 = net.let("F1", relu(net.let("G1", Htilde * W1 + b1)))
    H2 = net.let("H2", Htilde + F1 * W2 + b2)  # the residual around the feedforward network
    A = net.activation("A", "softmax", net.let("Z", Wo * transpose(H2) + bo))
    net.cost(cross_entropy(A, Y))


def model() -> VecNetwork:
    return build()
