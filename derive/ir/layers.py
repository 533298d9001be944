"""Layer builders: a whole multi-layer perceptron from a list of sizes, in the lecture convention.

``mlp("net", sizes=[2, 4, 1], hidden="tanh", output="sigmoid", loss="binary_cross_entropy")``
declares X (n0×m), Y (nL×m), W_l (n_l×n_{l−1}), b_l (n_l×1), ``Z_l = W_l A_{l−1} + b_l``
and ``A_l = g_l(Z_l)`` (A0 is X) with symbolic shapes n0, …, nL, m; the
concrete sizes are kept in ``dims``.
"""

from __future__ import annotations

from ..errors import ChainruleError, caller_place
from ..ops import HIDDEN, OUTPUTS
from ..ops.names import activation_name, loss_name
from .network import VecNetwork

__all__ = ["mlp"]


def mlp(name: str, sizes, hidden="relu", output="sigmoid", loss="binary_cross_entropy", doc: str = "") -> VecNetwork:
    """A fully connected network ``sizes = [n0, n1, …, nL]`` (hidden: relu | sigmoid | tanh;
    output: sigmoid | softmax | identity; loss: binary_cross_entropy | cross_entropy | mse)."""
    where = caller_place()
    sizes = list(sizes) if isinstance(sizes, (list, tuple)) else sizes
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)
    ):
        raise ChainruleError(
            f"sizes must be a list of at least two positive integers [n0, …, nL], got {sizes!r}", where
        )
    g = activation_name(hidden, HIDDEN, "hidden activation", where)
    out = activation_name(output, OUTPUTS, "output activation", where)
    lname = loss_name(loss, where)
    net = VecNetwork(name, doc=doc)
    net._hidden = g
    dims = net.dims(**{f"n{i}": s for i, s in enumerate(sizes)})
    dims = dims if isinstance(dims, tuple) else (dims,)
    L = len(sizes) - 1
    prev = net.input("X", dims[0])
    Y = net.target("Y", dims[L])
    for l in range(1, L + 1):
        W = net.param(f"W{l}", (dims[l], dims[l - 1]))
        b = net.param(f"b{l}", (dims[l], 1))
        Z = net.affine(f"Z{l}", W, prev, b)
        prev = net.activation(f"A{l}", g if l < L else out, Z)
    net.cost(lname, prev, Y)
    return net
