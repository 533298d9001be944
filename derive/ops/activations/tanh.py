"""tanh(z) = (e^z − e^(−z))/(e^z + e^(−z)) (J&M ch. 7; deeplearning.ai course 1, week 3)."""

import math

import mpmath
import numpy as np
import sympy as sp

from ..activation import Inplace, NetFunctionBase, activation


@activation(
    name="tanh", text="tanh", latex=r"\tanh",
    definition=sp.tanh, derivative=lambda a, z: 1 - a**2, why="tanh'(z) = 1 − tanh²(z)",
    matrix_why_latex=r"$\tanh'(Z) = 1 - A^{2}$",
    numeric=math.tanh, mpmath=mpmath.tanh, array=np.tanh,
    numpy="np.tanh({0})", init=("xavier", "Xavier: it feeds tanh"),
    inplace=Inplace(
        forward=("{a} = np.tanh({z}, out={out})",),
        grad_clobber=("np.multiply({q}, {q}, out={q})", "np.subtract(1, {q}, out={q})"),
        grad_scratch=("np.multiply({q}, {q}, out={s})", "np.subtract(1, {s}, out={s})"),
    ),
    depth_why=r"For tanh, $\tanh'(z) = 1 - \tanh^2 z \leq 1$, equal to one only at $z = 0$.",
    prose="the hyperbolic tangent, a σ rescaled to (−1, 1): tanh(z) = 2σ(2z) − 1",
)  # fmt: skip
class Tanh(NetFunctionBase):
    nargs = 1
