"""Evaluating a vectorised claim tree with NumPy (never as Python): names, element-wise functions and
their derivatives, ``@``, ``.T``, ``np.sum``; a product of mismatched shapes is a ``ShapeError``."""

from __future__ import annotations

import numpy as np

from ..ops import record_of, records
from .claims import ClaimError, to_text
from .vec_read import _shown
from .vec_target import VecTarget, resolve

# name -> (function, derivative) of every function taken entry by entry: its record's (the reference
# interpreter's) NumPy forms
ACTIVATION = {
    r.name: (r.array, r.array_derivative)
    for r in records()
    if r.kind != "loss" and r.elementwise and r.partial_rule is None and "'" not in r.name
}
# name -> the SymPy class, for the symbolic proof
SYMPY_ACTIVATIONS = {r.name: r.cls for r in records() if r.name in ACTIVATION}


FUNCS = {
    "exp": (np.exp, np.exp),
    "sqrt": (np.sqrt, lambda z: 0.5 / np.sqrt(z)),
    "sign": (np.sign, np.zeros_like),  # the subgradient convention of L1: sign(0) = 0
    "log": (np.log, lambda z: 1 / z),
    **{r.name: (r.array, None) for r in records("activation") if r.form == "component"},
    **ACTIVATION,
}


ONE_BY_ONE_IS_A_NUMBER = "__one_by_one_is_a_number"  # an env flag: u_oᵀv_c (1×1) juxtaposed is a scalar factor


class ShapeError(Exception):
    pass


def evaluate(net: VecTarget, tree, env: dict):
    """The claim tree evaluated with NumPy (never as Python)."""
    kind = tree[0]
    if kind == "num":
        return float(tree[1])
    if kind == "name":
        return env[resolve(net, tree[1])]
    if kind == "neg":
        return -evaluate(net, tree[1], env)
    if kind == "T":
        x = evaluate(net, tree[1], env)
        return x.T if isinstance(x, np.ndarray) else x
    if kind == "sum":
        x = evaluate(net, tree[1], env)
        return np.sum(x, axis=tree[2], keepdims=tree[3]) if isinstance(x, np.ndarray) else x
    if kind in ("kron", "isum", "dop"):
        raise ClaimError(f"'{to_text(tree)}' is per unit: write it for a network written out unit by unit")
    if kind == "call" and tree[1] in ("max", "loss"):
        args = [evaluate(net, a, env) for a in tree[2]]
        if len(args) != 2:
            raise ClaimError(f"{tree[1]}(…) takes two arguments")
        return np.maximum(*args) if tree[1] == "max" else batch_loss(net, *args)
    if kind == "call" and tree[1] == "diag":  # diag(s) of a row or a column s
        (x,) = [evaluate(net, a, env) for a in tree[2]]
        if np.ndim(x) == 2 and 1 not in np.shape(x):
            raise ShapeError(f"diag(…) takes a row or a column, not a {np.shape(x)[0]}×{np.shape(x)[1]} matrix")
        return np.diag(np.ravel(x))
    if kind == "call" and tree[1] == "norm":  # ‖W‖_F
        x = evaluate(net, tree[2][0], env)
        return float(np.sqrt(np.sum(np.asarray(x) ** 2)))
    if kind == "call":
        fname = tree[1]
        if len(tree[2]) != 1:
            raise ClaimError(f"{fname}(…) takes one argument")
        (arg,) = tree[2]
        x = evaluate(net, arg, env)
        base = fname.rstrip("'")
        if base == "g":
            base = activation_of(net, arg)
        if base not in FUNCS:
            raise ClaimError(f"unknown function '{base}'")
        f, df = FUNCS[base]
        if fname.endswith("'") and df is None:
            raise ClaimError(f"{base}'(…) is not element-wise: write its derivative out")
        return df(x) if fname.endswith("'") else f(x)
    if kind == "partial":
        raise ClaimError("write vectorised gradients as dW1, db1, dZ1 … (not ∂/∂)")
    a, b = evaluate(net, tree[1], env), evaluate(net, tree[2], env)
    try:
        if kind == "add":
            return a + b
        if kind == "sub":
            return a - b
        if kind == "mul":
            return a * b
        if kind == "div":
            return a / b
        if kind == "pow":
            return a**b
        if kind == "jux" and env.get(ONE_BY_ONE_IS_A_NUMBER) and _matrix(a) and _matrix(b) and 1 in (a.size, b.size):
            return a * b  # one pair (derive.verify.pairs): (1 − σ(u_oᵀv_c)) u_o, a 1×1 matrix times a vector
        if kind == "matmul" or (kind == "jux" and _matrix(a) and _matrix(b)):
            if not (_matrix(a) and _matrix(b)):
                raise ShapeError(f"{_shown(tree, lambda n: resolve(net, n))}: '@' needs two matrices")
            if a.shape[-1] != b.shape[0]:
                raise ShapeError(
                    f"{_shown(tree, lambda n: resolve(net, n))}: shapes {a.shape} and {b.shape} do not match"
                )
            return a @ b
        if kind == "jux":
            return a * b
    except ValueError as exc:
        raise ShapeError(str(exc).split(" (")[0]) from None
    raise ClaimError(f"cannot use '{kind}' in a vectorised claim")  # pragma: no cover


def batch_loss(net: VecTarget, A, Y):
    """L(A, Y) of each example (a row of m losses), for ``J = (1/m) Σ_columns L(A, Y)``."""
    loss = record_of(net.net.loss)  # its NumPy form sums a block of columns: one column at a time
    return np.array([[loss.array(A[:, j : j + 1], Y[:, j : j + 1]) for j in range(A.shape[1])]])


def _matrix(x) -> bool:
    return isinstance(x, np.ndarray) and x.ndim >= 1


def activation_of(net: VecTarget, arg) -> str:
    """The activation the network applies to ``arg`` (``g'(Z1)``): Z1 → g1."""
    if arg[0] == "name":
        name = resolve(net, arg[1])
        if name in net.activation:
            fname = net.activation[name]
            if fname not in ACTIVATION:
                raise ClaimError(f"g'({name}) is not element-wise for {fname}")
            return fname
    raise ClaimError(f"g'(…) needs a pre-activation ({', '.join(net.activation)}) as its argument, not {to_text(arg)}")
