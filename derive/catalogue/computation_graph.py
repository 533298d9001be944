"""J&M ch. 7 computation graph: L(a, b, c) = c(a + 2b) as d = 2b, e = a + d, L = c·e.

Worked values a = 3, b = 1, c = −2 (J&M's figure): d = 2, e = 5, L = −10;
∂L/∂a = −2, ∂L/∂b = −4, ∂L/∂c = 5.
"""

from derive import Network


def build() -> Network:
    net = Network("computation_graph", doc="L(a,b,c) = c(a + 2b), the computation graph of J&M ch. 7")
    a, b, c = net.params("a b c")
    d = net.let("d", 2 * b)
    e = net.let("e", a + d)
    net.loss(c * e)
    net.examples["lecture"] = {"a": 3.0, "b": 1.0, "c": -2.0}
    return net
