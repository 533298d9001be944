"""identity(z) = z: a linear output layer (regression with squared error)."""

import sympy as sp

from ..activation import NetFunctionBase, activation


@activation(
    name="identity", text="identity", latex=r"\operatorname{id}", words=("linear",),
    definition=lambda z: z, derivative=lambda a, z: sp.S.One, why="identity'(z) = 1",
    matrix_why="identity'(Z) = 1", matrix_why_latex=r"the identity's derivative is 1",
    numeric=float, mpmath=lambda z: z, array=lambda z: z, numpy="{0}",
    prose="the identity g(z) = z: the output is the linear score itself",
)  # fmt: skip
class Identity(NetFunctionBase):
    nargs = 1

    @classmethod
    def eval(cls, z):
        return z  # on a scalar the identity is its argument; the matrix program keeps Apply(Identity, Z)
