"""The classic slips of a Hessian claim (CS229's H = (1/m) Xᵀ diag(σ(1 − σ)) X), each as a repair of the claim
tree: the example's outer product x xᵀ written as the inner product xᵀ x (the transposes swapped: with one
example per column, Xᵀ diag(s) X is m×m, a Gram matrix of the examples), and the weights σ(1 − σ) dropped.
A missing 1/m is named by the constant-ratio check every claim gets (``vec_hints``)."""

from __future__ import annotations

from .vec_repairs import _replace, _walk
from .vec_target import VecTarget


def hessian_repairs(net: VecTarget, name: str, tree):
    if not name.startswith("H") or name not in net.equations or net.equations[name].kind != "hessian":
        return
    (X,) = net.net.names("input")
    A = net.net.cost_operands[0]
    yield (
        (
            f"the inner and outer products swapped: {X}ᵀ diag(s) {X} written for {X} diag(s) {X}ᵀ. With one example"
            f" per column each example adds its outer product x xᵀ (n×n), not xᵀ x (a number); {X}ᵀ diag(s) {X} is"
            " m×m. CS229 writes Xᵀ diag(s) X because its X has one example per row"
        ),
        _swap_transposes(tree, X),
    )
    weights = ("call", "diag", (("mul", ("name", A), ("sub", ("num", 1), ("name", A))),))
    for path, node in _walk(tree):
        if node[0] in ("jux", "matmul") and node[2] == ("T", ("name", X)) and _ends_with(node[1], X):
            yield (
                (
                    f"σ(1 − σ) dropped: each example's x xᵀ is weighed by σ'(z) = a(1 − a), so H = (1/m) {X}"
                    f" diag({A} ⊙ (1 − {A})) {X}ᵀ; (1/m) {X} {X}ᵀ alone is the Hessian of a squared error on a linear output"
                ),
                _replace(tree, path, (node[0], (node[0], node[1], weights), node[2])),
            )


def _ends_with(tree, X) -> bool:
    """Whether the product ``tree`` ends with the factor ``X`` (``(1/m) X``, ``X``)."""
    if tree == ("name", X):
        return True
    return tree[0] in ("jux", "matmul", "mul") and _ends_with(tree[2], X)


def _swap_transposes(tree, X):
    """``tree`` with ``X`` and ``Xᵀ`` exchanged."""
    if tree == ("name", X):
        return ("T", ("name", X))
    if tree == ("T", ("name", X)):
        return ("name", X)
    if tree[0] in ("num", "name", "partial"):
        return tree
    if tree[0] == "call":
        return ("call", tree[1], tuple(_swap_transposes(a, X) for a in tree[2]))
    return (tree[0], *(_swap_transposes(x, X) if isinstance(x, tuple) else x for x in tree[1:]))
