"""Layer norm written out by hand after a hidden layer, as a NumPy user writes it (a column per example)."""

from derive import VecNetwork, cross_entropy, hadamard, mean_rows, power, relu, softmax

network = VecNetwork("layernorm_by_hand", doc="layer norm written out by hand after a hidden layer")
n0, n1, n2 = network.dims(n0=6, n1=5, n2=3)
eps = network.constant("eps", 1e-5)
X, Y = network.input("X", n0), network.target("Y", n2)
W1, b1 = network.param("W1", (n1, n0)), network.param("b1", (n1, 1))
g, beta = network.param("g", (n1, 1)), network.param("beta", (n1, 1))
W2, b2 = network.param("W2", (n2, n1)), network.param("b2", (n2, 1))
Z = W1 @ X + b1
mu = mean_rows(Z)
C = Z - mu
var = mean_rows(hadamard(C, C))
Zhat = hadamard(C, power(var + eps, -0.5))
H = relu(hadamard(g, Zhat) + beta)
network.cost(cross_entropy(softmax(W2 @ H + b2), Y))
