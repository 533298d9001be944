"""Regression with SiLU hidden units written in one line as a NumPy user writes it, v @ silu(W @ X + b) + c: the
engine names the hidden layer (Z1, A1), and the row v is a weight (Xavier-small), not a bias."""

from derive import VecNetwork, mse, silu

network = VecNetwork("silu_regression")
n, h = network.dims(n=3, h=8)
X = network.input("X", n)
y = network.target("y", 1)
W, b = network.param("W", (h, n)), network.param("b", (h, 1))
v, c = network.param("v", (1, h)), network.param("c", (1, 1))
network.cost(mse(v @ silu(W @ X + b) + c, y))
