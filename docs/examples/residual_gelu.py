"""A residual GELU network with weight decay, written the NumPy way."""

from derive import VecNetwork, frobenius_sq, gelu, leaky_relu, mse

network = VecNetwork("residual_gelu", doc="residual GELU regression with weight decay")
n0, n1, n2 = network.dims(n0=3, n1=6, n2=2)
lam = network.constant("lam", 0.001)
X, Y = network.input("X", n0), network.target("Y", n2)
W1, b1 = network.param("W1", (n1, n0)), network.param("b1", (n1, 1))
W2, b2 = network.param("W2", (n1, n1)), network.param("b2", (n1, 1))
W3 = network.param("W3", (n1, n2))
H1 = gelu(W1 @ X + b1)
H2 = H1 + leaky_relu(W2 @ H1 + b2)
network.cost(mse(W3.T @ H2, Y) + lam / 2 * (frobenius_sq(W1) + frobenius_sq(W2) + frobenius_sq(W3)))
