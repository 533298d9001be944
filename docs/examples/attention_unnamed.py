"""Self-attention written as a NumPy user writes it: X has a column per position, Q, K and V are never named."""

import sympy as sp

from derive import VecNetwork, mse, softmax_rows

network = VecNetwork("attention_unnamed", doc="self-attention, regression, unnamed projections")
(d,) = (network.dims(d=4),)
X = network.input("X", d)
Y = network.target("Y", d)
Wq, Wk, Wv = (network.param(f"W{k}", (d, d)) for k in "qkv")
Xr = X.T
P = network.let("P", softmax_rows(Xr @ Wq @ (Xr @ Wk).T / sp.sqrt(d)))
network.cost(mse((P @ Xr @ Wv).T, Y))
