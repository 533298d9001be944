"""An Elman RNN over numeric inputs, tanh state, its last state read out by a linear layer: a regression (no
output activation), as a NumPy user writes it."""

from derive import VecNetwork, mse, tanh

network = VecNetwork("rnn_regression", doc="an Elman RNN over numbers, a regression of its last state")
d, n, k = network.dims(d=2, n=4, k=2)
Wx, Wh, b = network.param("Wx", (n, d)), network.param("Wh", (n, n)), network.param("b", (n, 1))
Wy, by = network.param("Wy", (k, n)), network.param("by", (k, 1))
network.sequence("T", 5)
with network.step():
    x = network.input("x", d)
    h_prev = network.state("h", n)
    h = network.let("h", tanh(Wx @ x + Wh @ h_prev + b))
Y = network.target("Y", k)
network.cost(mse(Wy @ h + by, Y))
