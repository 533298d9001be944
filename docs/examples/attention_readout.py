"""Self-attention, a linear read-out declared with an explicit identity activation."""

import sympy as sp

from derive import VecNetwork, identity, mse, softmax_rows, transpose

network = VecNetwork("attention_readout", doc="self-attention, identity read-out")
d, k = network.dims(d=4, k=3)
X = network.input("X", d)
Y = network.target("Y", k)
Wq, Wk, Wv = (network.param(f"W{c}", (d, d)) for c in "qkv")
Wo, bo = network.param("Wo", (k, d)), network.param("bo", (k, 1))
Xr = network.let("Xr", transpose(X))
Q, K, V = network.let("Q", Xr @ Wq), network.let("K", Xr @ Wk), network.let("V", Xr @ Wv)
P = network.let("P", softmax_rows(Q @ K.T / sp.sqrt(d)))
O = network.let("O", P @ V)
Z = network.let("Z", Wo @ O.T + bo)
A = network.let("A", identity(Z))
network.cost(mse(A, Y))
