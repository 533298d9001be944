"""Self-attention as a NumPy user writes it: positions in rows (X.T @ Wq), the scores scaled by
np.sqrt(d), and the row softmax written out in its stable form.  chainrule reads the softmax as
softmax_rows, so the backward is the lecture's dS = P ⊙ (dP − rowsum(dP ⊙ P))."""

import numpy as np

from derive import VecNetwork, mse

net = VecNetwork("attention_numpy")
d, k = net.dims(d=4, k=3)
X, Y = net.input("X", d), net.target("Y", k)
Wq, Wk, Wv = (net.param(f"W{c}", (d, d)) for c in "qkv")
Wo, bo = net.param("Wo", (k, d)), net.param("bo", (k, 1))

Q, K, V = X.T @ Wq, X.T @ Wk, X.T @ Wv
S = Q @ K.T / np.sqrt(4)
E = np.exp(S - S.max(axis=1, keepdims=True))
P = E / E.sum(axis=1, keepdims=True)
O = P @ V
net.cost(mse(Wo @ O.T + bo, Y))

network = net
