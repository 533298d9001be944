"""A GRU in d2l's convention (the reset gate on h before the product) over numeric inputs, written as a user
writes it: NumPy's @, gates left to the engine to name, the output's pre-activation unnamed.

    chainrule derive docs/examples/gru.py
    chainrule generate docs/examples/gru.py -o gru.py
"""

from derive import VecNetwork, binary_cross_entropy, hadamard, sigmoid, tanh

network = VecNetwork("gru_user", doc="a GRU (d2l's convention) over numeric inputs, a label from its last state")
d, n, k = network.dims(d=3, n=5, k=1)
Wz, Uz, bz = network.param("Wz", (n, d)), network.param("Uz", (n, n)), network.param("bz", (n, 1))
Wr, Ur, br = network.param("Wr", (n, d)), network.param("Ur", (n, n)), network.param("br", (n, 1))
Wh, Uh, bh = network.param("Wh", (n, d)), network.param("Uh", (n, n)), network.param("bh", (n, 1))
V, c = network.param("V", (k, n)), network.param("c", (k, 1))
network.sequence("T", 6)
with network.step():
    x = network.input("x", d)
    h_prev = network.state("h", n)
    z = network.let("z", sigmoid(Wz @ x + Uz @ h_prev + bz))
    r = network.let("r", sigmoid(Wr @ x + Ur @ h_prev + br))
    hc = network.let("hc", tanh(Wh @ x + Uh @ hadamard(r, h_prev) + bh))
    h = network.let("h", hadamard(1 - z, hc) + hadamard(z, h_prev))
Y = network.target("Y", k)
network.cost(binary_cross_entropy(sigmoid(V @ h + c), Y))
