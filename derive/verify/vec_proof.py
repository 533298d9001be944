"""The symbolic proof of a vectorised claim that holds, at one small concrete shape, entry by entry."""

from __future__ import annotations

import sympy as sp

from .claims import ClaimError
from .vec_evaluate import ShapeError, activation_of
from .vec_target import VecTarget, resolve

PROOF_WIDTHS = (2, 3, 4, 5)  # n0, n1, … of the free widths; m = 2
PROOF_MAX_ENTRIES = 40


def prove(net: VecTarget, name: str, tree) -> str:
    """ "proved at shape …" when every entry of claim − truth reaches 0 by the bounded symbolic steps
    of ``derive.verify.equivalence`` at one small concrete shape (symbols for every entry of the data and
    parameters), else "numeric only (…)".  The random-shape numeric check decides either way."""
    from ..ir.network import M
    from ..ir.numeric import SymPyEvaluator, run
    from .equivalence import SYMBOLIC_SECONDS, bounded

    if name.endswith("←") or net.net.target_kind == "one-hot":  # one-hot targets: not a symbolic identity
        return "numeric only (not attempted for this claim)"
    out_rows = net.net.matrices[net.y].shape[0]
    free = [d for d in net.net.dim_sizes if d != out_rows]
    dims = {d: PROOF_WIDTHS[i % len(PROOF_WIDTHS)] for i, d in enumerate(free)}
    if out_rows in net.net.dim_sizes:  # a one-row output may be declared as 1 itself
        dims[out_rows] = net.net.dim_sizes[out_rows]
    dims[M] = 2
    shape_text = ", ".join(f"{k} = {v}" for k, v in sorted(((str(k), v) for k, v in dims.items())))

    def attempt() -> str:
        env = {}
        for leaf in (*net.params, *net.net.names("input"), net.y):
            rows, cols = (int(sp.sympify(x).subs(dims)) for x in net.net.matrices[leaf].shape)
            env[leaf] = sp.Matrix(rows, cols, lambda i, j, leaf=leaf: sp.Symbol(f"{leaf}_{i + 1}_{j + 1}"))
        values = run(net.d.equations, env, dims, evaluator=SymPyEvaluator)
        values["m"] = sp.Integer(dims[M])
        true = values[name]
        claimed = _symbolic(net, tree, values)
        if not isinstance(claimed, sp.MatrixBase):
            claimed = sp.Matrix([[claimed]])
        if claimed.shape != true.shape or len(true) > PROOF_MAX_ENTRIES:
            return "numeric only (shape)"
        from .equivalence import _symbolic_steps

        for a, b in zip(claimed, true):
            if _symbolic_steps(a - b) != "proved":
                return "numeric only (an entry was not brought to 0 by the bounded steps)"
        return f"proved at shape {shape_text}"

    try:
        return bounded(attempt, SYMBOLIC_SECONDS, f"numeric only (stopped after {SYMBOLIC_SECONDS:g} s)")
    except (ClaimError, ShapeError, TypeError, ValueError, KeyError, NotImplementedError, AttributeError):
        return "numeric only"


def _symbolic(net: VecTarget, tree, env):
    """The claim tree over explicit SymPy matrices (element-wise products, ``@``, sums, functions)."""
    from .vec_evaluate import SYMPY_ACTIVATIONS

    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "name":
        return env[resolve(net, tree[1])]
    if kind == "neg":
        return -_symbolic(net, tree[1], env)
    if kind == "T":
        x = _symbolic(net, tree[1], env)
        return x.T if isinstance(x, sp.MatrixBase) else x
    if kind == "sum":
        x = _symbolic(net, tree[1], env)
        if tree[2] == 1 and tree[3]:
            return sp.Matrix([[sum(x[i, :])] for i in range(x.rows)])
        if tree[2] == 0 and tree[3]:
            return sp.Matrix([[sum(x[:, j]) for j in range(x.cols)]])
        raise ShapeError("not a kept sum")
    if kind == "call":
        fname = tree[1]
        if len(tree[2]) != 1:
            raise ShapeError("not element-wise")
        x = _symbolic(net, tree[2][0], env)
        base = fname.rstrip("'")
        if base == "g":
            base = activation_of(net, tree[2][0])
        funcs = {**SYMPY_ACTIVATIONS, "exp": sp.exp, "log": sp.log}
        if base not in funcs:
            raise ShapeError(base)
        f = funcs[base]
        if fname.endswith("'"):
            z = sp.Dummy("z")
            derivative = sp.Lambda(z, sp.diff(f(z), z))
            return x.applyfunc(derivative) if isinstance(x, sp.MatrixBase) else derivative(x)
        return x.applyfunc(f) if isinstance(x, sp.MatrixBase) else f(x)
    a, b = _symbolic(net, tree[1], env), _symbolic(net, tree[2], env)
    ma, mb = isinstance(a, sp.MatrixBase), isinstance(b, sp.MatrixBase)
    if kind in ("add", "sub"):
        if ma and mb and a.shape != b.shape:
            if b.cols == 1 and a.rows == b.rows:  # a column broadcast across the examples
                b = b * sp.ones(1, a.cols)
            elif a.cols == 1 and a.rows == b.rows:
                a = a * sp.ones(1, b.cols)
            else:
                raise ShapeError("shapes")
        if ma and not mb:
            b = b * sp.ones(*a.shape)
        if mb and not ma:
            a = a * sp.ones(*b.shape)
        return a + b if kind == "add" else a - b
    if kind == "matmul" or (kind == "jux" and ma and mb):
        return a * b
    if kind in ("mul", "jux"):
        if ma and mb:
            return a.multiply_elementwise(b)
        return a * b
    if kind == "div":
        if mb:
            inverse = b.applyfunc(lambda e: 1 / e)
            return a.multiply_elementwise(inverse) if ma else inverse * a
        return a.applyfunc(lambda e: e / b) if ma else a / b
    if kind == "pow":
        return a.applyfunc(lambda e: e**b) if ma else a**b
    raise ShapeError(kind)
