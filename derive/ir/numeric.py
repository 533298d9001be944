"""Evaluate the vectorised equations' expressions, with NumPy (floats) or SymPy (explicit matrices).

This is a reference interpreter of the IR's ``expr`` trees, used to check
the derivation (finite differences, agreement with the scalar derivation);
it is not the generated training code.  Dispatch is on the class name, one
method per matrix-expression class.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..ops import OPS


class Evaluator:
    """Walks a matrix expression; subclasses supply the arithmetic."""

    def __init__(self, env: dict, dims: dict):
        self.env = env  # quantity name -> matrix
        self.dims = dims  # shape Symbol -> int
        self._at_dims: dict = {}  # each size or coefficient at ``dims``, worked out once (the evaluator's hot path)

    def __call__(self, expr):
        method = getattr(self, f"_{type(expr).__name__}", None)
        if method is None:
            raise NotImplementedError(f"cannot evaluate {type(expr).__name__}")
        return method(expr)

    def size(self, s) -> int:
        return int(self.at_dims(s))

    def scalar(self, s):
        return float(self.at_dims(s))

    def at_dims(self, s) -> sp.Expr:
        """``s`` (a size or a coefficient) with every size symbol replaced by its value in ``dims``."""
        if s not in self._at_dims:
            self._at_dims[s] = sp.sympify(s).xreplace(self.dims)
        return self._at_dims[s]

    def _MatrixSymbol(self, e):
        return self.env[e.name]

    def _Transpose(self, e):
        return self(e.arg).T

    def _MatAdd(self, e):
        out = self(e.args[0])
        for a in e.args[1:]:
            out = out + self(a)
        return out

    def _MatMul(self, e):
        scalar, factors = e.as_coeff_matrices()
        out = self(factors[0])
        for f in factors[1:]:
            out = self.matmul(out, self(f))
        return out if scalar == 1 else self.scale(scalar, out)

    def _MatPow(self, e):
        """``M**k`` for a whole k ≥ 1 (a Hessian's diag(s)² is one): k − 1 products."""
        k = e.exp
        if not (k.is_Integer and k >= 1):
            raise NotImplementedError(f"cannot evaluate a matrix to the power {k}")
        base = self(e.base)
        out = base
        for _ in range(int(k) - 1):
            out = self.matmul(out, base)
        return out


class NumPyEvaluator(Evaluator):
    """float64 arrays."""

    def matmul(self, a, b):
        return a @ b

    def scale(self, s, a):
        return self.scalar(s) * a

    def _OneMatrix(self, e):
        return np.ones((self.size(e.shape[0]), self.size(e.shape[1])))

    def _ZeroMatrix(self, e):
        return np.zeros((self.size(e.shape[0]), self.size(e.shape[1])))

    def _Identity(self, e):  # diag(s)'s adjoint keeps G's diagonal: G ⊙ I
        return np.eye(self.size(e.shape[0]))

    def _HadamardProduct(self, e):
        out = self(e.args[0])
        for a in e.args[1:]:
            out = out * self(a)
        return out

    def _HadamardPower(self, e):
        return self(e.base) ** float(e.exp)

    def _Apply(self, e):
        return e.record.array(self(e.arg))

    def _LossSum(self, e):
        a, y = self(e.args[1]), self(e.args[2])
        return np.array([[e.record.array(a, y)]])

    def frobenius_sq(self, a):
        return np.array([[float(np.sum(a * a))]])

    def l1_norm(self, a):
        return np.array([[float(np.sum(np.abs(a)))]])

    def sign(self, a):
        return np.sign(a)


class SymPyEvaluator(Evaluator):
    """Explicit ``sympy.Matrix`` values whose entries use chainrule's scalar functions."""

    def matmul(self, a, b):
        return a * b

    def scale(self, s, a):
        return self.at_dims(s) * a

    def _OneMatrix(self, e):
        return sp.ones(self.size(e.shape[0]), self.size(e.shape[1]))

    def _ZeroMatrix(self, e):
        return sp.zeros(self.size(e.shape[0]), self.size(e.shape[1]))

    def _Identity(self, e):
        return sp.eye(self.size(e.shape[0]))

    def _HadamardProduct(self, e):
        out = self(e.args[0])
        for a in e.args[1:]:
            out = out.multiply_elementwise(self(a))
        return out

    def _HadamardPower(self, e):
        return self(e.base).applyfunc(lambda x: x**e.exp)

    def _Apply(self, e):
        z, rec = self(e.arg), e.record
        if rec.form == "component":  # each column's softmax, component by component
            out = sp.zeros(*z.shape)
            for j in range(z.shape[1]):
                col = list(z[:, j])
                for k in range(z.shape[0]):
                    out[k, j] = rec.cls(sp.Integer(k + 1), *col)
            return out
        if not rec.elementwise:
            raise NotImplementedError(f"cannot evaluate {rec.name} entry by entry")
        return z.applyfunc(rec.cls)

    def _LossSum(self, e):
        a, y, rec = self(e.args[1]), self(e.args[2]), e.record
        total = sp.S.Zero
        for j in range(a.shape[1]):
            cols = list(a[:, j]), list(y[:, j])
            if rec.form == "pairs":  # one loss of the whole column
                total += rec.cls(*cols[0], *cols[1])
            else:  # one loss per entry
                total += sum(rec.cls(p, t) for p, t in zip(*cols))
        return sp.Matrix([[total]])

    def frobenius_sq(self, a):
        return sp.Matrix([[sum(x**2 for x in a)]])

    def l1_norm(self, a):
        return sp.Matrix([[sum(sp.Abs(x) for x in a)]])

    def sign(self, a):
        return a.applyfunc(sp.sign)


def _install_table() -> None:
    """``_<Op>`` for each op of the table that evaluates itself (its stanza's ``evaluate``)."""
    for op in OPS.values():
        if op.evaluate is not None:
            setattr(Evaluator, f"_{op.ir.__name__}", lambda self, e, _evaluate=op.evaluate: _evaluate(self, e))


_install_table()


def run(equations, env: dict, dims: dict, evaluator=NumPyEvaluator) -> dict:
    """Evaluate ``equations`` in order, adding each target to a copy of ``env``."""
    values = dict(env)
    ev = evaluator(values, dims)
    for eq in equations:
        values[eq.target] = ev(eq.expr)
    return values
